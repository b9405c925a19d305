import { cn } from "./cn";

const VARIANTS = {
  default: "border-transparent bg-indigo-100 text-indigo-800",
  secondary: "border-transparent bg-zinc-100 text-zinc-700",
  success: "border-transparent bg-emerald-100 text-emerald-800",
  warning: "border-transparent bg-amber-100 text-amber-900",
  destructive: "border-transparent bg-red-100 text-red-800",
  outline: "border-zinc-300 text-zinc-700",
} as const;

export type BadgeVariant = keyof typeof VARIANTS;

export function Badge({ className, variant = "default", ...props }: React.ComponentProps<"span"> & { variant?: BadgeVariant }) {
  return (
    <span
      className={cn("inline-flex items-center gap-1 rounded-md border px-2 py-0.5 text-xs font-medium whitespace-nowrap", VARIANTS[variant], className)}
      {...props}
    />
  );
}
