import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A throw-away certificate authority and a server certificate it signed, in a
 * new temporary directory: what the TLS tests trust and serve. Files for the
 * services' *_FILE variables, contents for clients' `ca` options.
 */
export interface TestCertificates {
  readonly dir: string;
  /** PEM of the test CA: a client that trusts this trusts the server. */
  readonly caFile: string;
  readonly ca: Buffer;
  /** The server's certificate (subjectAltName IP:127.0.0.1, DNS:localhost) and its private key. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** A second CA that signed nothing here: a client trusting only it must refuse the server. */
  readonly otherCaFile: string;
  readonly otherCa: Buffer;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Thrown when there is no openssl to run: the TLS tests must fail, not skip, without it. */
export class OpensslMissingError extends Error {
  readonly code = 'OPENSSL_MISSING';
  constructor() {
    super("'openssl' was not found: the TLS tests make their certificates with the OpenSSL CLI (Debian/Ubuntu: apt-get install openssl)");
    this.name = 'OpensslMissingError';
  }
}

/** P-256 keys: generated in milliseconds, unlike RSA, and accepted by every TLS stack the tests use. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a CA and a server certificate valid for a day with the OpenSSL CLI
 * (no npm package: the tests need nothing the production code does not). The
 * server certificate names 127.0.0.1 and localhost, where tests listen.
 */
export async function makeTestCertificates(opts: { readonly hosts?: readonly string[] } = {}): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'suido-tls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) =>
    run('openssl', args, { cwd: dir }).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
      if (err.code === 'ENOENT') throw new OpensslMissingError();
      throw new Error(`openssl ${args[0]} failed: ${err.stderr ?? err.message}`);
    });
  try {
    const makeCa = (name: string, subject: string) =>
      openssl(['req', '-x509', ...NEW_EC_KEY, '-keyout', path(`${name}.key`), '-out', path(`${name}.crt`), '-days', '1', '-subj', subject,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await Promise.all([makeCa('ca', '/CN=Suido Test CA'), makeCa('other-ca', '/CN=Someone Else CA')]);
    const names = opts.hosts ?? ['127.0.0.1', 'localhost'];
    const san = names.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    await writeFile(path('server.ext'), [
      `subjectAltName=${san}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'));
    await openssl(['req', ...NEW_EC_KEY, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=suido-test-server']);
    await openssl(['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial',
      '-out', path('server.crt'), '-days', '1', '-extfile', path('server.ext')]);
    const [ca, cert, key, otherCa] = await Promise.all(['ca.crt', 'server.crt', 'server.key', 'other-ca.crt'].map((f) => readFile(path(f))));
    return {
      dir,
      caFile: path('ca.crt'),
      ca: ca!,
      certFile: path('server.crt'),
      keyFile: path('server.key'),
      cert: cert!,
      key: key!,
      otherCaFile: path('other-ca.crt'),
      otherCa: otherCa!,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
