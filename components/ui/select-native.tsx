import { cn } from "./cn";

/** A styled native <select>: accessible, and posts with FormData as is. */
export function SelectNative({ className, ...props }: React.ComponentProps<"select">) {
  return (
    <select
      className={cn(
        "h-9 w-full rounded-md border border-zinc-300 bg-white px-2 text-sm shadow-xs focus-visible:border-indigo-500 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500/30 disabled:opacity-50",
        className,
      )}
      {...props}
    />
  );
}
