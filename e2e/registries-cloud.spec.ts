import crypto from "node:crypto";
import { expect, test } from "./test";
import { createToken, databaseBytes, seedOwner, signIn } from "./fixtures";

/**
 * Cloud registry kinds in the browser and the API: the form shows each kind's
 * own fields, refuses what cannot work with words per field (keeping what was
 * typed, never a secret), and never shows a secret again. Minting against the
 * clouds' stand-ins is tested in lib/registries/cloud.
 */
const ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

test("add an ECR registry with an access key, edit it, and move it only with the secret again, at 1366 and 390 px", async ({ page }) => {
  const owner = seedOwner("registry-cloud");
  const secret = `aws-secret-${crypto.randomUUID()}`;
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/registries/new`);
  const form = page.getByTestId("registry-form");
  await form.getByLabel("Name", { exact: true }).fill("Acme ECR");
  await form.getByLabel("Endpoint").fill(ECR_HOST);
  await form.getByLabel("How Gantry signs in").selectOption("ecr");
  // The basic fields are gone; ECR's are there.
  await expect(form.getByLabel("Password or token")).toHaveCount(0);
  await form.getByLabel("Access key ID").fill("not-a-key");
  await form.getByRole("button", { name: "Add registry" }).click();
  // Refused with words per field; what was typed stays, the secret field is empty.
  await expect(form.getByLabel("Access key ID")).toHaveAccessibleDescription(/16 or more capital letters/);
  await expect(form.getByLabel("Secret access key")).toHaveAccessibleDescription(/Enter the secret access key/);
  await expect(form.getByLabel("Access key ID")).toHaveValue("not-a-key");
  await expect(form.getByLabel("Endpoint")).toHaveValue(ECR_HOST);
  await expect(form.getByLabel("How Gantry signs in")).toHaveValue("ecr");

  await form.getByLabel("Access key ID").fill("AKIAIOSFODNN7EXAMPLE");
  await form.getByLabel("Secret access key").fill(secret);
  await form.getByRole("button", { name: "Add registry" }).click();
  await expect(page.getByText("Registry added.")).toBeVisible();
  await expect(page.getByTestId("credential-status")).toContainText("Amazon ECR identity AKIAIOSFODNN7EXAMPLE");
  await expect(page.getByTestId("credential-status")).toContainText("No token minted yet");
  // The region was read from the endpoint; the secret is write-only.
  await expect(form.getByLabel("AWS region")).toHaveValue("eu-west-1");
  await expect(form.getByLabel("Secret access key")).toHaveValue("");
  await expect(form.getByLabel("Secret access key")).toHaveAttribute("placeholder", "unchanged");
  expect(await page.content()).not.toContain(secret);

  // A role to assume, without retyping the secret: kept.
  await form.getByLabel("Role to assume (optional)").fill("arn:aws:iam::123456789012:role/gantry-pull");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved. The secret is unchanged.")).toBeVisible();
  // Another endpoint needs the secret again.
  await form.getByLabel("Endpoint").fill("attacker.example.com");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByLabel("Secret access key")).toHaveAccessibleDescription(/Enter the secret access key again: the endpoint's scheme, host or port changed\./);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Acme ECR" })).toBeVisible();
  await expect(form.getByLabel("Endpoint")).toHaveValue(`https://${ECR_HOST}`);

  // The list names the kind and the identity; 390 px scrolls nowhere sideways.
  await page.goto(`/t/${owner.team.slug}/registries`);
  await expect(page.getByTestId("registry-Acme ECR")).toContainText("ecr");
  await expect(page.getByTestId("registry-Acme ECR")).toContainText("AKIAIOSFODNN7EXAMPLE");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/t/${owner.team.slug}/registries/new`);
  await form.getByLabel("How Gantry signs in").selectOption("gar");
  await expect(form.getByLabel("Service-account key (JSON)")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  expect(databaseBytes().includes(Buffer.from(secret))).toBe(false);
});

test("the API takes each kind's fields, answers 422 with field errors, and never returns a secret", async ({ request }) => {
  const owner = seedOwner("registry-cloud-api");
  const token = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${token}` };
  const clientSecret = `azure-${crypto.randomUUID()}`;
  const created = await request.post("/api/v1/registries", {
    headers: auth,
    data: { name: "ACR", endpoint: "acme.azurecr.io", kind: "acr", tenantId: "contoso.onmicrosoft.com", clientId: "11111111-2222-3333-4444-555555555555", clientSecret },
  });
  expect(created.status()).toBe(201);
  const body = await created.text();
  expect(body).not.toContain(clientSecret);
  const { registry } = JSON.parse(body) as { registry: { id: string; kind: string; username: string; cloud: unknown } };
  expect(registry).toMatchObject({ kind: "acr", username: "11111111-2222-3333-4444-555555555555", cloud: { tenantId: "contoso.onmicrosoft.com", ambient: false } });

  const invalid = await request.post("/api/v1/registries", { headers: auth, data: { name: "GAR", endpoint: "gcr.io", kind: "gar", serviceAccountKey: "{nope" } });
  expect(invalid.status()).toBe(422);
  expect((await invalid.json()).error).toMatchObject({ code: "VALIDATION", fields: { serviceAccountKey: [expect.stringMatching(/not JSON/)] } });
  const ambient = await request.post("/api/v1/registries", { headers: auth, data: { name: "Ambient", endpoint: ECR_HOST, kind: "ecr", ambient: true } });
  expect(ambient.status()).toBe(422);
  expect((await ambient.json()).error.fields.ambient[0]).toMatch(/GANTRY_CLOUD_AMBIENT_CREDENTIALS/);

  // Moving the endpoint without the secret: 422, nothing changed.
  const moved = await request.patch(`/api/v1/registries/${registry.id}`, { headers: auth, data: { endpoint: "evil.example.com" } });
  expect(moved.status()).toBe(422);
  expect((await moved.json()).error.fields.clientSecret[0]).toMatch(/again: the endpoint's scheme, host or port changed/);
  const listed = await request.get("/api/v1/registries", { headers: auth });
  const text = await listed.text();
  expect(text).toContain("https://acme.azurecr.io");
  expect(text).not.toContain(clientSecret);
});
