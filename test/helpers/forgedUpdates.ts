/**
 * Yjs v1 updates written byte by byte, for checks of what Yjs itself never produces. Layout of one
 * client's structs: numClients, numStructs, client, clock, then per item its info byte, its origin
 * (client, clock) when the info says so, and its content; a delete set follows.
 */

/** Info bit: the item has a left origin. */
export const ORIGIN_FLAG = 0x80;
/** Info content kind: a string. */
export const CONTENT_STRING = 4;
/** Parent info: the parent is a root type, named by the string that follows. */
export const ROOT_PARENT = 1;

/** One item of client 7 at clock 0, ContentString "x", whose left origin is 7:5, which it cannot have seen. */
export function forgeSelfReference(): Uint8Array {
  return new Uint8Array([1, 1, 7, 0, ORIGIN_FLAG | CONTENT_STRING, 7, 5, 1, 'x'.charCodeAt(0), 0]);
}
