import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EnvReader } from './env-reader.ts';

/**
 * A server's certificate (PEM, the chain after the leaf if any) and its
 * private key, read once at start-up so that a wrong path or a key that does
 * not match fails the start, naming the variable, instead of the first
 * client's handshake. The file names are for logs; the contents never are.
 */
export interface TlsServerFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * `certVar` and `keyVar` (e.g. MQTT_TLS_CERT_FILE, MQTT_TLS_KEY_FILE): both
 * set, TLS; neither, undefined; one alone is a problem rather than a silent
 * fallback to plain text. An encrypted key is refused (no passphrase variable:
 * protect the file by its permissions).
 */
export function readTlsServerFiles(r: EnvReader, certVar: string, keyVar: string): TlsServerFiles | undefined {
  const certFile = r.optionalString(certVar);
  const keyFile = r.optionalString(keyVar);
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const [set, unset] = certFile === undefined ? [keyVar, certVar] : [certVar, keyVar];
    r.problem(`${set} is set: set ${unset} too (TLS needs the certificate and its private key), or neither for plain text`);
    return undefined;
  }
  const cert = readPem(r, certVar, certFile);
  const key = readPem(r, keyVar, keyFile);
  if (!cert || !key) return undefined;
  let x509: X509Certificate | undefined;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    r.problem(`${certVar}='${certFile}' holds no PEM certificate`);
  }
  let keyObject: KeyObject | undefined;
  try {
    keyObject = createPrivateKey(key);
  } catch {
    // The parser's message is not repeated: it could quote part of the file.
    r.problem(`${keyVar}='${keyFile}' holds no unencrypted PEM private key (its contents are not shown)`);
  }
  if (!x509 || !keyObject) return undefined;
  if (!x509.checkPrivateKey(keyObject)) {
    r.problem(`${keyVar}='${keyFile}' is not the private key of the certificate in ${certVar}='${certFile}'`);
    return undefined;
  }
  if (Date.parse(x509.validTo) < Date.now()) {
    r.problem(`${certVar}='${certFile}' expired on ${new Date(x509.validTo).toISOString()}`);
    return undefined;
  }
  return { cert, key, certFile, keyFile };
}

/**
 * A CA file a client trusts instead of the system's CAs (e.g.
 * ALERTS_MQTT_CA_FILE): undefined when unset; read and parsed at start-up.
 */
export function readCaFile(r: EnvReader, name: string): Buffer | undefined {
  const file = r.optionalString(name);
  if (file === undefined) return undefined;
  const pem = readPem(r, name, file);
  if (!pem) return undefined;
  try {
    new X509Certificate(pem);
  } catch {
    r.problem(`${name}='${file}' holds no PEM certificate`);
    return undefined;
  }
  return pem;
}

function readPem(r: EnvReader, name: string, file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    r.problem(`${name}='${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}
