"use client";

import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { humanBytes } from "@/lib/format/bytes";

/** One bucket of the chart (an hour or a UTC day): what the server's series gives. */
export interface TrafficPoint {
  /** ISO start of the bucket, UTC */
  start: string;
  bytesFromCache: number;
  bytesFromUpstream: number;
}

const CACHE_COLOR = "#4f46e5"; // indigo-600
const UPSTREAM_COLOR = "#a1a1aa"; // zinc-400

const dayTick = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", timeZone: "UTC" });
const hourTick = new Intl.DateTimeFormat("en", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" });
const fullLabel = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" });

/**
 * Bytes served from Gantry's cache and from the vendor's registry, stacked per
 * bucket. Sized by its container (`responsive`), so it follows the page from
 * phone to desktop without a fixed width; labels are in UTC like the buckets.
 */
export function TrafficChart({ points, unit }: { points: TrafficPoint[]; unit: "hour" | "day" }) {
  const tick = (iso: string) => (unit === "day" ? dayTick : hourTick).format(new Date(iso));
  const label = (iso: unknown) => (typeof iso === "string" ? `${unit === "day" ? dayTick.format(new Date(iso)) : fullLabel.format(new Date(iso))} UTC` : "");
  return (
    <BarChart responsive data={points} style={{ width: "100%", height: 280 }} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
      <CartesianGrid vertical={false} stroke="#e4e4e7" />
      <XAxis dataKey="start" tickFormatter={tick} tick={{ fontSize: 12, fill: "#52525b" }} minTickGap={16} tickLine={false} axisLine={{ stroke: "#d4d4d8" }} />
      <YAxis tickFormatter={(v: number) => humanBytes(v, 0).replace(" ", "\u00a0")} tick={{ fontSize: 12, fill: "#52525b" }} width={64} tickLine={false} axisLine={false} />
      <Tooltip
        labelFormatter={label}
        formatter={(value) => humanBytes(Number(value))}
        cursor={{ fill: "#f4f4f5" }}
        contentStyle={{ fontSize: 12, borderRadius: 6, borderColor: "#e4e4e7" }}
      />
      <Legend wrapperStyle={{ fontSize: 12 }} />
      <Bar dataKey="bytesFromCache" name="From cache" stackId="bytes" fill={CACHE_COLOR} isAnimationActive={false} />
      <Bar dataKey="bytesFromUpstream" name="From your registry" stackId="bytes" fill={UPSTREAM_COLOR} isAnimationActive={false} />
    </BarChart>
  );
}
