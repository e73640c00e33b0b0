/**
 * True in core's CommonJS build only (tsup defines it per format, see tsup.config.ts);
 * undefined in the ESM build and when the sources run under a test runner.
 */
declare const __NOVA_COMMON_CJS__: boolean | undefined;

type NativeImport = (url: string) => Promise<Record<string, unknown>>;

let nativeImport: NativeImport | undefined;

/**
 * `import()` of a module by its file: URL, in both builds. The CommonJS build is made by
 * rewriting the ESM output, and that rewrite turns every `import()` it sees into `require()`,
 * which takes no file: URL (and no ES module with top-level await). So the CommonJS build
 * imports through a function made at run time, which the rewrite cannot see; Node's own
 * `import()` then loads ES and CommonJS drivers alike. The ESM build keeps a plain `import()`.
 */
export function importByUrl(url: string): Promise<Record<string, unknown>> {
  if (typeof __NOVA_COMMON_CJS__ !== 'undefined' && __NOVA_COMMON_CJS__) {
    nativeImport ??= new Function('url', 'return import(url)') as NativeImport;
    return nativeImport(url);
  }
  return import(url) as Promise<Record<string, unknown>>;
}
