// ~/.m2/settings.xml for a protodepot server: a <server> holding the token (Maven sends it after a 401) and an
// always-active profile with the repository. Written whole, between markers, so a rerun replaces only our part.
const begin = "<!-- protodepot login: begin -->";
const end = "<!-- protodepot login: end -->";

const xml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export interface MavenSettings {
  /** The repository and server id: one per server host. */
  id: string;
  repositoryUrl: string;
  user: string;
  token: string;
}

export function mavenSettingsFor(remote: string, user: string, token: string): MavenSettings {
  const url = new URL("/maven/", remote);
  return {
    id: `protodepot-${url.host.replace(/[^A-Za-z0-9.-]/g, "-")}`,
    repositoryUrl: url.toString(),
    user,
    token,
  };
}

/**
 * A settings.xml with our server and profile: a new file, or one we wrote before (its marked parts replaced).
 * Undefined for a settings.xml of the user's own: XML cannot be edited line by line safely, so the caller prints
 * what to add instead.
 */
export function upsertMavenSettings(text: string, s: MavenSettings): string | undefined {
  const server = `    ${begin}\n    <server>\n      <id>${xml(s.id)}</id>\n      <username>${xml(s.user)}</username>\n      <password>${xml(s.token)}</password>\n    </server>\n    ${end}\n`;
  const profile = `    ${begin}\n    <profile>\n      <id>${xml(s.id)}</id>\n      <repositories>\n        <repository>\n          <id>${xml(s.id)}</id>\n          <url>${xml(s.repositoryUrl)}</url>\n          <snapshots><enabled>false</enabled></snapshots>\n        </repository>\n      </repositories>\n    </profile>\n    ${end}\n`;
  // Listed in activeProfiles, not activeByDefault: that one switches off whenever another profile is activated.
  const active = `    ${begin}\n    <activeProfile>${xml(s.id)}</activeProfile>\n    ${end}\n`;
  if (text.trim() === "") {
    return `<settings>\n  <servers>\n${server}  </servers>\n  <profiles>\n${profile}  </profiles>\n  <activeProfiles>\n${active}  </activeProfiles>\n</settings>\n`;
  }
  const marked = new RegExp(`    ${begin}\\n[\\s\\S]*?    ${end}\\n`, "g");
  const parts = text.match(marked);
  if (parts?.length !== 3) return undefined;
  const ours = [server, profile, active];
  let i = 0;
  return text.replace(marked, () => ours[i++] ?? "");
}

/** The lines to add by hand to a settings.xml that is not ours. */
export function mavenSettingsSnippet(s: MavenSettings): string {
  return `<servers><server><id>${xml(s.id)}</id><username>${xml(s.user)}</username><password>$PROTODEPOT_TOKEN</password></server></servers>\n<profiles><profile><id>${xml(s.id)}</id><repositories><repository><id>${xml(s.id)}</id><url>${xml(s.repositoryUrl)}</url></repository></repositories></profile></profiles>\n<activeProfiles><activeProfile>${xml(s.id)}</activeProfile></activeProfiles>`;
}
