// The part of tar-stream 2.2.0 (no published types for it in node_modules) that lib/charts uses.
declare module "tar-stream" {
  import type { Readable, Writable } from "node:stream";

  export type EntryType =
    | "file"
    | "link"
    | "symlink"
    | "character-device"
    | "block-device"
    | "directory"
    | "fifo"
    | "contiguous-file"
    | "pax-header"
    | "pax-global-header"
    | "gnu-long-link-path"
    | "gnu-long-path";

  export interface Headers {
    name: string;
    size?: number;
    mode?: number;
    mtime?: Date;
    type?: EntryType | null;
    linkname?: string | null;
    uid?: number;
    gid?: number;
    uname?: string;
    gname?: string;
  }

  export interface Extract extends Writable {
    on(event: "entry", listener: (headers: Headers, stream: Readable, next: (error?: unknown) => void) => void): this;
    on(event: "finish", listener: () => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    destroy(error?: Error): this;
  }

  export interface Pack extends Readable {
    entry(headers: Headers, buffer?: Buffer | string, callback?: (error?: Error | null) => void): Writable;
    finalize(): void;
  }

  export function extract(): Extract;
  export function pack(): Pack;
}
