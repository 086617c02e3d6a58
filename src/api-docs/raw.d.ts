// Vite's `?raw` imports (a file's text as a string), which the tests use to read the docs.
declare module "*.md?raw" {
	const text: string;
	export default text;
}
