/** Data the shell renders; computed by the server page or layout, never fetched by the shell itself. */
export type ShellNavItem = { key: string; label: string; href: string };

export type ShellOrg = { slug: string; name: string; role: string; href: string };

export type ShellUser = { name: string | null; email: string | null };
