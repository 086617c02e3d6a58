// How the fuzz run tells what it found: problems grouped per case (the full list), and per class
// (one kind of problem, whatever the route), each with a reproducer.

/** One entry per distinct case; random cases differ in every label, so they group by route and kind. */
export function grouped(list) {
	const groups = new Map();
	for (const v of list) {
		const key = `${v.where}|${v.route}|${v.category === "random" ? `random|${v.kind}` : v.label}`;
		const g = groups.get(key) ?? { ...v, count: 0 };
		g.count++;
		groups.set(key, g);
	}
	return [...groups.values()];
}

/** Problems of one kind, whatever the route: digits and quoted text do not make a new class. */
export function classes(list) {
	const byClass = new Map();
	for (const v of list) {
		const name = `[${v.where}] ${v.category ?? ""}: ${v.kind
			.replace(/"[^"]*"/g, '"…"')
			.replace(/\d+/g, "N")
			.slice(0, 160)}`;
		const c = byClass.get(name) ?? { name, count: 0, routes: new Set(), example: v };
		c.count++;
		c.routes.add(v.route);
		byClass.set(name, c);
	}
	return [...byClass.values()].sort((x, y) => y.count - x.count);
}

export function printClasses(title, list) {
	console.log(`\n${title}: ${list.length} classes`);
	for (const c of list) {
		const routes = [...c.routes];
		console.log(`  ×${String(c.count).padEnd(4)} ${c.name}`);
		console.log(
			`         on ${routes.slice(0, 4).join(", ")}${routes.length > 4 ? ` and ${routes.length - 4} more` : ""}`,
		);
		console.log(`         e.g. ${c.example.label ?? ""}: ${c.example.repro.slice(0, 300)}`);
	}
}

export function printCases(title, groups) {
	console.log(`\n${title}: ${groups.length}`);
	groups.forEach((g, i) => {
		console.log(
			`${String(i + 1).padStart(4)}. [${g.where}] ${g.route} — ${g.category ?? ""}: ${g.label ?? ""}${g.count > 1 ? ` ×${g.count}` : ""}`,
		);
		console.log(`      ${g.kind}`);
		if (g.repro) console.log(`      repro: ${g.repro.slice(0, 600)}`);
	});
}
