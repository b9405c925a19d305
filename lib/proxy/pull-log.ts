import { db } from "@/lib/db";
import { log } from "@/lib/log";

export interface PullRecord {
  teamId: string;
  appId: string;
  licenseId: string;
  repository: string;
  kind: string;
  reference: string;
  method: string;
  status: number;
  bytesSent: number;
  durationMs: number;
  clientIp: string | null;
  userAgent: string | null;
}

/** Appends a pull record after the response, off the streaming path; a failure is logged, never thrown. */
export function recordPull(record: PullRecord): void {
  setImmediate(() => {
    db.pullEvent.create({ data: { ...record, userAgent: record.userAgent?.slice(0, 300) ?? null } }).catch((e: unknown) => {
      log.error("could not record a pull", { error: e, repository: record.repository });
    });
  });
}
