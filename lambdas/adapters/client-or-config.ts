/** An AWS adapter takes its SDK client (shared, or a test's), or the config to build one: not both. */
export type ClientOrConfig<Client, Config> =
  | { client: Client; clientConfig?: never }
  | { client?: never; clientConfig?: Config };
