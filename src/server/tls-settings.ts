/**
 * The TLS (amqps) listener's settings: certificate, key and CA read and checked once at startup, so that a
 * missing file, a key that does not match its certificate or a wrong key password stops the broker with a
 * one-line reason naming the file, instead of failing each client's handshake later (RabbitMQ: ssl_options).
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type tls from 'node:tls';
import type { BrokerConfig } from '../config.js';

/**
 * node:tls, loaded on first use: most brokers have no TLS listener, and loading it costs ~1.5 MB of idle
 * RSS (the idle-RSS target is 60 MB).
 */
export function nodeTls(): typeof tls {
  return createRequire(import.meta.url)('node:tls') as typeof tls;
}

/** A file name, or the PEM text itself (a Buffer, or a string holding `-----BEGIN`). */
export type PemSource = string | Buffer;

/** The embedding API's `tls` option. */
export interface TlsOptions {
  /** Port of the amqps listener; 0 (the default) picks a free one. */
  port?: number;
  /** Server certificate (chain), PEM (RabbitMQ's ssl_options.certfile). */
  cert: PemSource;
  /** Its private key, PEM (ssl_options.keyfile). */
  key: PemSource;
  /** CA certificate(s) client certificates must chain to, PEM (ssl_options.cacertfile). */
  ca?: PemSource;
  /** Ask clients for a certificate; refuse an invalid one (ssl_options.verify = verify_peer). Default false. */
  verifyPeer?: boolean;
  /** With verifyPeer, refuse clients that send no certificate (ssl_options.fail_if_no_peer_cert). Default false. */
  failIfNoPeerCert?: boolean;
  /** Password of an encrypted key (ssl_options.password). */
  keyPassword?: string;
}

type TlsFields = Pick<BrokerConfig, 'tlsPort' | 'tlsCert' | 'tlsKey' | 'tlsCa' | 'tlsVerifyPeer' | 'tlsFailIfNoPeerCert' | 'tlsKeyPassword'>;

/** The `tls` option as the BrokerConfig fields the CLI sets. */
export function tlsOptionsToConfig(options: TlsOptions): TlsFields {
  return {
    tlsPort: options.port ?? 0,
    tlsCert: options.cert,
    tlsKey: options.key,
    tlsCa: options.ca,
    tlsVerifyPeer: options.verifyPeer ?? false,
    tlsFailIfNoPeerCert: options.failIfNoPeerCert ?? false,
    tlsKeyPassword: options.keyPassword,
  };
}

/** TLS configuration that cannot work; the CLI prints the message and exits with 1. */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError';
}

export interface TlsSettings {
  readonly port: number;
  readonly verifyPeer: boolean;
  readonly failIfNoPeerCert: boolean;
  /** For tls.createServer, which builds its own context from these (it ignores a `secureContext`). */
  readonly contextOptions: tls.SecureContextOptions;
  /** The server certificate, for the startup log (subject, expiry). */
  readonly certificate: crypto.X509Certificate;
}

/**
 * What is wrong with the combination of TLS settings, before any file is read (the CLI words it with its
 * flag names, loadTlsSettings with RabbitMQ's).
 */
export function tlsSettingsProblem(
  config: Pick<BrokerConfig, 'tlsPort' | 'tlsCert' | 'tlsKey' | 'tlsVerifyPeer' | 'tlsFailIfNoPeerCert'>,
): 'no certificate or key' | 'fail_if_no_peer_cert without verify_peer' | undefined {
  if (config.tlsPort === undefined) return undefined;
  if (config.tlsCert === undefined || config.tlsKey === undefined) return 'no certificate or key';
  // Erlang's ssl refuses this combination too (fail_if_no_peer_cert with verify_none).
  if (config.tlsFailIfNoPeerCert && !config.tlsVerifyPeer) return 'fail_if_no_peer_cert without verify_peer';
  return undefined;
}

/** Read and check the TLS files; undefined when no TLS port is configured. Throws TlsSetupError. */
export function loadTlsSettings(config: TlsFields): TlsSettings | undefined {
  if (config.tlsPort === undefined) return undefined;
  switch (tlsSettingsProblem(config)) {
    case 'no certificate or key':
      throw new TlsSetupError('a TLS listener needs a certificate and its private key');
    case 'fail_if_no_peer_cert without verify_peer':
      throw new TlsSetupError('fail_if_no_peer_cert needs verify_peer (a client certificate is only asked for with verify_peer)');
    default:
  }
  // Both present: tlsSettingsProblem checked.
  const cert = readPem(config.tlsCert!, 'TLS certificate');
  const key = readPem(config.tlsKey!, 'TLS key');
  const ca = config.tlsCa === undefined ? undefined : readPem(config.tlsCa, 'TLS CA');

  let certificate: crypto.X509Certificate;
  try {
    certificate = new crypto.X509Certificate(cert.pem);
  } catch (err) {
    throw new TlsSetupError(`${cert.name}: not a PEM certificate (${reason(err)})`);
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey({ key: key.pem, passphrase: config.tlsKeyPassword });
  } catch (err) {
    const encrypted = key.pem.includes('ENCRYPTED');
    if (encrypted && config.tlsKeyPassword === undefined) throw new TlsSetupError(`${key.name}: the key is encrypted and no password was given`);
    if (encrypted) throw new TlsSetupError(`${key.name}: cannot decrypt the key (wrong password?)`);
    throw new TlsSetupError(`${key.name}: not a PEM private key (${reason(err)})`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsSetupError(`${key.name}: the key does not belong to the certificate in ${cert.name}`);
  }
  if (ca !== undefined) checkCaCertificates(ca);

  const contextOptions: tls.SecureContextOptions = {
    cert: cert.pem, key: key.pem, passphrase: config.tlsKeyPassword, ...(ca === undefined ? {} : { ca: ca.pem }),
  };
  try {
    // What tls.createServer will do with them: fail here, with the file names, rather than there.
    nodeTls().createSecureContext(contextOptions);
  } catch (err) {
    throw new TlsSetupError(`${cert.name}, ${key.name}: ${reason(err)}`);
  }
  return {
    port: config.tlsPort,
    verifyPeer: config.tlsVerifyPeer,
    failIfNoPeerCert: config.tlsFailIfNoPeerCert,
    contextOptions,
    certificate,
  };
}

interface Pem {
  readonly pem: Buffer;
  /** How messages name it: `TLS key file /etc/warren/key.pem`, or `TLS key (PEM text)`. */
  readonly name: string;
}

function readPem(source: PemSource, what: string): Pem {
  if (Buffer.isBuffer(source)) return { pem: source, name: `${what} (PEM text)` };
  if (source.includes('-----BEGIN')) return { pem: Buffer.from(source), name: `${what} (PEM text)` };
  const name = `${what} file ${source}`;
  try {
    return { pem: readFileSync(source), name };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file'
      : code === 'EACCES' ? 'permission denied'
        : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new TlsSetupError(`${name}: ${why}`);
  }
}

/** createSecureContext ignores what does not parse; a CA file without a certificate would verify nobody. */
function checkCaCertificates(ca: Pem): void {
  const blocks = ca.pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TlsSetupError(`${ca.name}: no PEM certificate in it`);
  for (const block of blocks) {
    try {
      new crypto.X509Certificate(block);
    } catch (err) {
      throw new TlsSetupError(`${ca.name}: a certificate does not parse (${reason(err)})`);
    }
  }
}

/** OpenSSL's reason (`key values mismatch`) rather than its whole error string. */
function reason(err: unknown): string {
  const e = err as Error & { reason?: unknown };
  return typeof e.reason === 'string' && e.reason !== '' ? e.reason : e.message;
}
