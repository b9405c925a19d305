// The header codec of tar-stream 2.2.0 (headers.js; the package publishes no types) that lib/airgap uses.
declare module "tar-stream/headers" {
  export interface HeaderFields {
    name: string;
    size: number;
    mode: number;
    type: "file" | "directory" | "pax-header";
    mtime: Date;
    uid: number;
    gid: number;
    uname?: string;
    gname?: string;
    devmajor?: number;
    devminor?: number;
  }
  /** One 512-byte ustar block, or null when the name does not fit ustar (over 100 + 155 bytes, or not ASCII). */
  export function encode(fields: HeaderFields): Buffer | null;
  /** pax extended-header records (`<len> path=…\n`, then each `pax` key in insertion order). */
  export function encodePax(fields: { name?: string; pax?: Record<string, string> }): Buffer;
  export function decodePax(records: Buffer): Record<string, string>;
}
