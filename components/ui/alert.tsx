import { cn } from "./cn";

const VARIANTS = {
  default: "border-zinc-200 bg-white text-zinc-900",
  destructive: "border-red-200 bg-red-50 text-red-900",
  success: "border-emerald-200 bg-emerald-50 text-emerald-900",
  warning: "border-amber-200 bg-amber-50 text-amber-900",
} as const;

export function Alert({ className, variant = "default", ...props }: React.ComponentProps<"div"> & { variant?: keyof typeof VARIANTS }) {
  return (
    <div
      role={variant === "destructive" ? "alert" : "status"}
      className={cn("grid gap-1 rounded-md border px-4 py-3 text-sm", VARIANTS[variant], className)}
      {...props}
    />
  );
}
export function AlertTitle({ className, ...props }: React.ComponentProps<"div">) {
  return <div className={cn("font-medium", className)} {...props} />;
}
export function AlertDescription({ className, ...props }: React.ComponentProps<"div">) {
  return <div className={cn("text-sm", className)} {...props} />;
}
