// Debian's Chromium for the browser tests (no browser download is possible here), headless and
// quiet: no background requests of its own, so a test sees only the page's.
import { chromium } from "playwright-core";

export function launchChromium() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
}
