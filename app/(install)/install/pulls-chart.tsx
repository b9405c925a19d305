"use client";

import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";

const dayTick = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", timeZone: "UTC" });

/** Registry requests per UTC day, the last two weeks. The table beside it lists each one. */
export function PullsChart({ days }: { days: { day: string; requests: number }[] }) {
  return (
    <BarChart responsive data={days} style={{ width: "100%", height: 200 }} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} data-testid="pulls-chart">
      <CartesianGrid vertical={false} stroke="#e4e4e7" />
      <XAxis dataKey="day" tickFormatter={(d: string) => dayTick.format(new Date(d))} tick={{ fontSize: 12, fill: "#52525b" }} minTickGap={16} tickLine={false} axisLine={{ stroke: "#d4d4d8" }} />
      <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: "#52525b" }} width={40} tickLine={false} axisLine={false} />
      <Tooltip labelFormatter={(d) => (typeof d === "string" ? `${dayTick.format(new Date(d))} (UTC)` : "")} formatter={(v) => [String(v), "requests"]} cursor={{ fill: "#f4f4f5" }} contentStyle={{ fontSize: 12, borderRadius: 6, borderColor: "#e4e4e7" }} />
      <Bar dataKey="requests" fill="#4f46e5" radius={[3, 3, 0, 0]} isAnimationActive={false} />
    </BarChart>
  );
}
