/**
 * Listening on a TCP port with "taken -> the next free one", for the built-in default's
 * embedded MQTT broker (1883) and HTTP endpoint (9464): a second daemon, or another broker or
 * exporter on the same machine, moves them on instead of stopping the start.
 */
import type { Server } from 'node:net';

/** How many ports from the wanted one are tried before giving up. */
export const PORT_TRIES = 100;

/** The listen error of the last port tried, with that port. */
export class ListenError extends Error {
  constructor(
    readonly port: number,
    readonly error: NodeJS.ErrnoException,
    /** Every port tried was taken. */
    readonly allTaken: boolean,
  ) {
    super(error.message, { cause: error });
    this.name = 'ListenError';
  }
}

/**
 * Listens on `port`, or with `nextFree` on the first port from it that is not taken; resolves
 * with the port bound (the system's choice for port 0). Errors other than "in use" end the search.
 */
export async function listenOn(server: Server, host: string, port: number, nextFree: boolean): Promise<number> {
  const last = nextFree && port !== 0 ? Math.min(port + PORT_TRIES, 65536) - 1 : port;
  for (let candidate = port; ; candidate++) {
    const error = await listen(server, candidate, host);
    if (!error) {
      const address = server.address();
      return typeof address === 'object' && address ? address.port : candidate;
    }
    if (error.code !== 'EADDRINUSE' || candidate >= last)
      throw new ListenError(candidate, error, error.code === 'EADDRINUSE' && last > port);
  }
}

/** Resolves undefined once listening, or the listen error (the server stays reusable for another try). */
function listen(server: Server, port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      resolve(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(undefined);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
