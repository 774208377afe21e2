/**
 * What a definitions import left out. RabbitMQ exports carry sections and keys Warren has nothing behind
 * (plugin parameters, fields of newer releases); an import takes everything else and lists these, in the
 * response and the log, so nothing is dropped without a word.
 */
export class ImportReport {
  private readonly items: string[] = [];

  notImported(what: string): void {
    this.items.push(what);
  }

  get notImportedItems(): readonly string[] {
    return this.items;
  }

  /** Keys of `item` outside `known`, each reported as `<what>: key '<k>'`. */
  unknownKeys(item: object, known: ReadonlySet<string>, what: string): void {
    for (const key of Object.keys(item)) if (!known.has(key)) this.notImported(`${what}: key '${key}'`);
  }
}
