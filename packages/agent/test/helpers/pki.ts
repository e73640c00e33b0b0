import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key, as PEM files and texts. */
export interface Issued {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/** A throwaway CA in `dir` that issues server and client certificates (EC P-256, one day). */
export class TestCa {
  readonly cert: Issued;
  private serial = 1;

  constructor(
    private readonly dir: string,
    private readonly name = 'ca',
  ) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name} test CA`], dir);
    this.cert = this.read(name);
  }

  private read(base: string): Issued {
    const certPath = join(this.dir, `${base}.crt`);
    const keyPath = join(this.dir, `${base}.key`);
    return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  }

  /** Issue a certificate for `subject` (`/CN=x/OU=compute`) with the given extensions. */
  issue(base: string, subject: string, extensions: string[]): Issued {
    const ext = join(this.dir, `${base}.ext`);
    writeFileSync(ext, extensions.join('\n') + '\n');
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject], this.dir);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', `${this.name}.crt`, '-CAkey', `${this.name}.key`, '-set_serial', String(this.serial++), '-out', `${base}.crt`, '-days', '1', '-extfile', ext], this.dir);
    return this.read(base);
  }

  server(base = 'server'): Issued {
    return this.issue(base, '/CN=localhost', ['subjectAltName=DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  }

  /** A client certificate: its role in the OU, in a URI SAN, or nowhere. */
  client(base: string, role: { ou?: string; uri?: string } = {}): Issued {
    const subject = `/CN=${base}${role.ou === undefined ? '' : `/OU=${role.ou}`}`;
    return this.issue(base, subject, [...(role.uri === undefined ? [] : [`subjectAltName=URI:${role.uri}`]), 'extendedKeyUsage=clientAuth']);
  }
}
