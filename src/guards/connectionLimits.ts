import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import { refuse, type AuthRefusal } from '../auth/errors.ts';

/**
 * The address a socket is counted under: its peer's, or behind `trustProxyHops` reverse proxies the
 * one the farthest trusted proxy saw, read from `X-Forwarded-For` (as Express's `trust proxy` with
 * a hop count, through the same library). With no trusted hop the header is ignored, so a client
 * cannot pick the address it is counted under.
 */
export function clientAddress(request: IncomingMessage, trustProxyHops: number): string {
  return proxyAddr(request, (_address, hop) => hop < trustProxyHops);
}

export interface ConnectionLimitsConfiguration {
  /** Sockets open at once from one address (`clientAddress`). */
  maxConnectionsPerAddress: number;
  /** Scenes one user has open on this instance, over all their sockets. */
  maxDocumentsPerUser: number;
  /** Scenes one socket has open. */
  maxDocumentsPerSocket: number;
}

/**
 * Counts what limits sockets and document connections: open sockets per address, and served
 * document connections per user and per socket. Each count is taken when the thing opens and
 * given back when it closes, so nothing outlives what it counts.
 *
 * A user is limited by document connections, not sockets: documents are what a user's
 * connections cost an instance (scenes loaded, every update and awareness relayed to each), and
 * each is given back by its own close; a socket with no scene open costs little, is bounded per
 * address, and Hocuspocus closes it when it goes quiet.
 *
 * `S` names a socket (Hocuspocus hands every hook of one socket the same request object), `D` a
 * document connection.
 */
export class ConnectionLedger<S extends object, D> {
  private readonly byAddress = new Map<string, number>();
  private readonly byUser = new Map<string, Set<D>>();
  private readonly bySocket = new WeakMap<S, Set<D>>();

  constructor(private readonly limits: ConnectionLimitsConfiguration) {}

  /** Counts a socket that opens from `address`, or refuses it (and counts nothing). */
  openSocket(address: string): AuthRefusal | null {
    const open = this.byAddress.get(address) ?? 0;
    const max = this.limits.maxConnectionsPerAddress;
    if (open >= max) return refuse('too-many-connections', `${max} connections from this address are open`);
    this.byAddress.set(address, open + 1);
    return null;
  }

  closeSocket(address: string): void {
    const open = (this.byAddress.get(address) ?? 0) - 1;
    if (open > 0) this.byAddress.set(address, open);
    else this.byAddress.delete(address);
  }

  /** Whether one more scene may open for this user on this socket (asked before it is loaded). */
  admit(socket: S, userId: string): AuthRefusal | null {
    return this.refusal(this.bySocket.get(socket)?.size ?? 0, this.byUser.get(userId)?.size ?? 0);
  }

  /**
   * Counts a document connection that is now served, or refuses it (and counts nothing): several
   * scenes that passed `admit` at the same moment may together go past a limit.
   */
  opened(socket: S, userId: string, document: D): AuthRefusal | null {
    const onSocket = this.bySocket.get(socket) ?? new Set<D>();
    const ofUser = this.byUser.get(userId) ?? new Set<D>();
    const refusal = this.refusal(onSocket.size, ofUser.size);
    if (refusal) return refusal;
    onSocket.add(document);
    ofUser.add(document);
    this.bySocket.set(socket, onSocket);
    this.byUser.set(userId, ofUser);
    return null;
  }

  closed(socket: S, userId: string, document: D): void {
    this.bySocket.get(socket)?.delete(document);
    const ofUser = this.byUser.get(userId);
    ofUser?.delete(document);
    if (ofUser?.size === 0) this.byUser.delete(userId);
  }

  private refusal(onSocket: number, ofUser: number): AuthRefusal | null {
    const { maxDocumentsPerSocket, maxDocumentsPerUser } = this.limits;
    if (onSocket >= maxDocumentsPerSocket) return refuse('too-many-documents', `this connection has ${maxDocumentsPerSocket} scenes open; close one first`);
    if (ofUser >= maxDocumentsPerUser) return refuse('too-many-user-documents', `you have ${maxDocumentsPerUser} scenes open on this server; close one first`);
    return null;
  }
}
