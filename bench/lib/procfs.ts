/**
 * What the runner reads about processes from /proc (Linux only) and about the machine.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  nodeVersion: string;
  memGiB: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    nodeVersion: process.version,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

/** The 1-minute load average: a hint of how busy the shared machine was. */
export function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set size in bytes over the process's lifetime (VmHWM, kept by the kernel). */
export function peakRssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

export const MiB = 1024 * 1024;

export function toMiB(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : Math.round((bytes / MiB) * 10) / 10;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Bytes the process caused to be written to storage (not sockets): `write_bytes` of /proc/PID/io. */
export function storageWriteBytes(pid: number): number | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const match = /^write_bytes:\s+(\d+)/m.exec(io);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples CPU use of a process between two points: percent of one core. */
export class CpuMeter {
  #startCpu: number | undefined;
  #startWall = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.#startCpu = cpuSeconds(this.pid);
    this.#startWall = performance.now();
  }

  /** Percent of one core since start(); undefined if unreadable. */
  stop(): number | undefined {
    const now = cpuSeconds(this.pid);
    if (now === undefined || this.#startCpu === undefined) return undefined;
    const wall = (performance.now() - this.#startWall) / 1000;
    return wall > 0 ? Math.round(((now - this.#startCpu) / wall) * 100) : undefined;
  }
}

/** Pids whose command name is `name` (e.g. RabbitMQ's `beam.smp`). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
