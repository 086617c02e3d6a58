/**
 * `GET /docs`: the interactive reference, Scalar's standalone bundle reading `/openapi.json`. The
 * bundle is one of the Worker's static assets (`npm run build:assets` copies it from node_modules),
 * so the page works with no internet; Scalar is told to fetch nothing else (no fonts, no telemetry,
 * no proxy for its "try it" client), and the page's CSP lets the browser load nothing but this origin.
 */

/** Where scripts/build-assets.mjs puts the bundle in the assets folder. */
export const SCALAR_SCRIPT = "/docs/scalar.js";

/** Scalar's configuration (its `data-configuration`); every fetch it makes goes to this origin. */
export const SCALAR_CONFIGURATION = {
	url: "/openapi.json",
	withDefaultFonts: false,
	telemetry: false,
	// Its "Ask AI" agent fetches from Scalar's servers; it is on by default on localhost.
	agent: { disabled: true },
	showDeveloperTools: "never",
	documentDownloadType: "json",
	defaultOpenAllTags: true,
	hideClientButton: false,
	metaData: { title: "edgechat API reference" },
} as const;

export const DOCS_CSP = [
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'self' 'unsafe-inline'",
	"img-src 'self' data:",
	"font-src 'self' data:",
	"connect-src 'self'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
].join("; ");

function attribute(value: string): string {
	return value.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgechat API reference</title>
<link rel="icon" href="data:,">
</head>
<body>
<script id="api-reference" data-url="${SCALAR_CONFIGURATION.url}" data-configuration="${attribute(JSON.stringify(SCALAR_CONFIGURATION))}"></script>
<script src="${SCALAR_SCRIPT}"></script>
</body>
</html>
`;
