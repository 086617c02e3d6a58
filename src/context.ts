import type { Tenant } from "./db/tenants";

export interface AppEnv {
	Bindings: Env;
	Variables: {
		requestId: string;
		tenant: Tenant;
		userId: string;
	};
}
