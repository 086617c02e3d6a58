import type { Tenant } from "./db/tenants";

export interface AppEnv {
	Bindings: Env;
	Variables: {
		requestId: string;
		tenant: Tenant;
		userId: string;
		/** When the user's token stops being accepted, skew included (ms since the epoch). */
		tokenExpiresAt: number;
		/** The signing key that verified the user's token (its `kid`). */
		tokenKeyId: string;
	};
}
