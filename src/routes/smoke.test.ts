import { expect, it } from "vitest";
import { createTenant, User } from "../../test/helpers";

it("smoke", async () => {
	const tenant = await createTenant();
	const alice = await User.create(tenant, "alice");
	const group = await alice.createGroup(["bob"]);
	const m = await alice.send(group.id, "hi");
	expect(m.seq).toBe(1);
	const ws = await alice.connect(group.id, { after: 0 });
	expect((await ws.next("ready")).lastSeq).toBe(1);
	expect((await ws.messages(1))[0]?.text).toBe("hi");
	ws.close();
});
