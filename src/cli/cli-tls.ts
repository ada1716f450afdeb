/**
 * `--tls-ca`, `--tls-cert`, `--tls-key` for every command that talks to Redis. A flag wins over
 * its KIQGATE_TLS_* variable: it is written into this process's environment, which is where
 * every connection kiqgate opens (the CLI's own, the Client's, the Worker's) reads TLS files.
 */
import { readTlsFiles, TLS_ENV, tlsFilesFromEnv, TlsConfigError } from '../support/tls.js';
import { CliError } from './cli-error.js';

/** parseArgs options of the TLS flags. */
export const TLS_FLAG_OPTIONS = {
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** Help lines of the TLS flags, descriptions starting at `column` (to match the command's help). */
export function tlsFlagsHelp(column = 23): string {
  return [
    ['--tls-ca FILE', 'CA certificate (PEM) for rediss:// (or KIQGATE_TLS_CA)'],
    ['--tls-cert FILE', 'client certificate (PEM), with --tls-key (or KIQGATE_TLS_CERT)'],
    ['--tls-key FILE', "the client certificate's key (PEM) (or KIQGATE_TLS_KEY)"],
  ].map(([flag, text]) => `  ${flag!.padEnd(column - 2)}${text}`).join('\n');
}

/** Applies the flags (over the environment) and checks that the files can be read. */
export function useTlsFlags(values: { 'tls-ca'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined }): void {
  if (values['tls-ca']) process.env[TLS_ENV.ca] = values['tls-ca'];
  if (values['tls-cert']) process.env[TLS_ENV.cert] = values['tls-cert'];
  if (values['tls-key']) process.env[TLS_ENV.key] = values['tls-key'];
  try {
    readTlsFiles(tlsFilesFromEnv(), 'command line and environment');
  } catch (err) {
    if (err instanceof TlsConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}
