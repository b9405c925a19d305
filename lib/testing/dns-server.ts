import fs from "node:fs";
import dns2 from "dns2";

const { Packet } = dns2;

/**
 * A real DNS server for tests (dns2, over UDP on loopback): Gantry's lookups
 * reach it through GANTRY_DNS_SERVERS, exactly as they would reach a zone's
 * resolver. Records are set per name and type; a name with no records is
 * NXDOMAIN, a name with records of other types answers NOERROR with none.
 * `mode` plays a broken resolver: SERVFAIL on every query, or no answer at
 * all (the client times out).
 *
 * With `recordsFile`, records are read from that JSON file on every query
 * ({"name": {"TXT": ["v"], "A": ["127.0.0.1"]}}), so another process (a
 * Playwright worker) can change them.
 */
export type RecordType = "A" | "AAAA" | "CNAME" | "TXT";
export type Zone = Record<string, Partial<Record<RecordType, string[]>>>;

export interface TestDnsServer {
  /** "127.0.0.1:<port>", for GANTRY_DNS_SERVERS. */
  address: string;
  set(name: string, type: RecordType, values: string[]): void;
  remove(name: string, type?: RecordType): void;
  mode: "ok" | "servfail" | "timeout";
  /** Queries answered so far, by "<name> <type>". */
  queries: string[];
  close(): Promise<void>;
}

type Answer = Omit<InstanceType<typeof Packet>["answers"][number], "toBuffer">;
// dns2 encodes plain records; its types ask for a toBuffer the encoder does not use.
const rr = (answer: Answer) => answer as InstanceType<typeof Packet>["answers"][number];

const TYPES: Record<number, RecordType> = { [Packet.TYPE.A]: "A", [Packet.TYPE.AAAA]: "AAAA", [Packet.TYPE.CNAME]: "CNAME", [Packet.TYPE.TXT]: "TXT" };

export async function startTestDnsServer(opts: { port?: number; recordsFile?: string } = {}): Promise<TestDnsServer> {
  const zone: Zone = {};
  const read = (): Zone => {
    if (!opts.recordsFile) return zone;
    try {
      return JSON.parse(fs.readFileSync(opts.recordsFile, "utf8")) as Zone;
    } catch {
      return {};
    }
  };
  const state: TestDnsServer = {
    address: "",
    mode: "ok",
    queries: [],
    set(name, type, values) {
      (zone[name.toLowerCase()] ??= {})[type] = values;
    },
    remove(name, type) {
      const key = name.toLowerCase();
      if (!type) delete zone[key];
      else if (zone[key]) delete zone[key][type];
    },
    close: async () => {
      await server.close();
    },
  };
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      if (!question) return send(response);
      const name = question.name.toLowerCase().replace(/\.$/, "");
      const type = TYPES[question.type];
      state.queries.push(`${name} ${type ?? question.type}`);
      if (state.mode === "timeout") return; // never answered: the client's timeout fires
      if (state.mode === "servfail") {
        response.header.rcode = Packet.RCODE.SERVFAIL;
        return send(response);
      }
      const records = read()[name];
      if (!records || Object.values(records).every((v) => !v?.length)) {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
        return send(response);
      }
      // A CNAME answers every type (the resolver follows it).
      const cname = records.CNAME?.[0];
      if (cname && type !== "CNAME") {
        response.answers.push(rr({ name: question.name, type: Packet.TYPE.CNAME, class: Packet.CLASS.IN, ttl: 1, domain: cname }));
        const target = read()[cname.toLowerCase()];
        for (const address of type === "A" || type === "AAAA" ? (target?.[type] ?? []) : []) {
          response.answers.push(rr({ name: cname, type: question.type, class: Packet.CLASS.IN, ttl: 1, address }));
        }
        return send(response);
      }
      for (const value of (type && records[type]) ?? []) {
        const base = { name: question.name, type: question.type, class: Packet.CLASS.IN, ttl: 1 };
        if (type === "TXT") response.answers.push(rr({ ...base, data: value }));
        else if (type === "CNAME") response.answers.push(rr({ ...base, domain: value }));
        else response.answers.push(rr({ ...base, address: value }));
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: opts.port ?? 0, address: "127.0.0.1" } });
  const udp = server.addresses().udp;
  state.address = `127.0.0.1:${udp?.port}`;
  return state;
}
