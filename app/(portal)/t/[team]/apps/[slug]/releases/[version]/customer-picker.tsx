import Form from "next/form";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";

/** Picks the customer whose installer the page shows (?customer=…): a GET form, navigated client-side. */
export function CustomerPicker({ action, customers, selected }: { action: string; customers: { id: string; label: string }[]; selected: string }) {
  return (
    <Form action={action} scroll={false} className="grid max-w-xl gap-2 sm:grid-cols-[1fr_auto] sm:items-end" data-testid="customer-picker">
      <div className="grid gap-1.5">
        <Label htmlFor="installer-customer">Customer</Label>
        <SelectNative id="installer-customer" name="customer" defaultValue={selected} key={selected}>
          <option value="">Choose a customer…</option>
          {customers.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </SelectNative>
      </div>
      <Button type="submit" variant="outline">
        Show installer
      </Button>
    </Form>
  );
}
