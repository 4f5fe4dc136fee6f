// Runs the real `mvn` in a consumer project against our /maven/ only: a fresh local repository, an empty global
// settings file, our server as the mirror of everything but Debian's packaged repository, which supplies
// protobuf-java and Maven's own plugins from disk. Nothing but the loopback server is ever asked.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const debianRepository = "/usr/share/maven-repo";

/** What the offline build needs, each with the Debian package that brings it (.ci/apt/maven.txt). */
const needs: [string, string][] = [
  ["/usr/bin/mvn", "maven"],
  ["/usr/bin/javac", "default-jdk-headless"],
  ["/usr/bin/protoc", "protobuf-compiler"],
  ["/usr/bin/bwrap", "bubblewrap"],
  [`${debianRepository}/com/google/protobuf/protobuf-java/3.21.12`, "libprotobuf-java"],
  [`${debianRepository}/org/apache/maven/plugins/maven-compiler-plugin`, "libmaven-compiler-plugin-java"],
  [`${debianRepository}/org/apache/maven/plugins/maven-resources-plugin`, "libmaven-resources-plugin-java"],
  [`${debianRepository}/org/apache/maven/plugins/maven-dependency-plugin`, "libmaven-dependency-plugin-java"],
];

/** Why the Maven tests cannot run here, or undefined when they can. */
export function mavenMissing(): string | undefined {
  const missing = needs.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg);
  return missing.length ? `missing Debian packages: ${[...new Set(missing)].join(" ")}` : undefined;
}

export interface MavenResult {
  code: number;
  output: string;
}

export interface MavenProject {
  dir: string;
  /** Runs `mvn …` in the project with its own settings; throws with Maven's output when it fails. */
  mvn(args: string[]): Promise<MavenResult>;
  tryMvn(args: string[]): Promise<MavenResult>;
  /** `mvn compile`, then `java -cp` over the resolved classpath: the program's stdout. */
  compileAndRun(mainClass: string): Promise<string>;
}

/** The settings.xml of a consumer: a `<server>` with the token when given (Maven sends it after a 401). */
export function renderSettings(opts: {
  localRepository: string;
  repositoryUrl: string;
  token?: string;
}): string {
  const server = opts.token
    ? `  <servers>\n    <server>\n      <id>protodepot</id>\n      <username>token</username>\n      <password>${opts.token}</password>\n    </server>\n  </servers>\n`
    : "";
  const debian = (tag: string) =>
    `        <${tag}>\n          <id>debian</id>\n          <url>file://${debianRepository}</url>\n` +
    `          <releases><checksumPolicy>ignore</checksumPolicy></releases>\n        </${tag}>\n`;
  return `<settings>
  <localRepository>${opts.localRepository}</localRepository>
${server}  <mirrors>
    <mirror>
      <id>protodepot</id>
      <mirrorOf>*,!debian</mirrorOf>
      <url>${opts.repositoryUrl}</url>
    </mirror>
  </mirrors>
  <profiles>
    <profile>
      <id>protodepot</id>
      <repositories>
        <repository>
          <id>protodepot</id>
          <url>${opts.repositoryUrl}</url>
          <releases><checksumPolicy>fail</checksumPolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </repository>
${debian("repository")}      </repositories>
      <pluginRepositories>
${debian("pluginRepository")}      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>protodepot</activeProfile>
  </activeProfiles>
</settings>
`;
}

/** A pom depending on the given artifacts (`groupId:artifactId:version`, a version may be a range). */
export function renderPom(dependencies: readonly string[]): string {
  const deps = dependencies
    .map((d) => {
      const [groupId, artifactId, version] = d.split(":");
      return `    <dependency>\n      <groupId>${groupId}</groupId>\n      <artifactId>${artifactId}</artifactId>\n      <version>${version}</version>\n    </dependency>\n`;
    })
    .join("");
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>consumer</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.release>8</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
${deps}  </dependencies>
</project>
`;
}

export async function createMavenProject(opts: {
  dir: string;
  repositoryUrl: string;
  token?: string;
  dependencies: readonly string[];
  /** Java sources by path under src/main/java. */
  sources: Record<string, string>;
}): Promise<MavenProject> {
  const { dir } = opts;
  const home = join(dir, "home");
  await mkdir(home, { recursive: true });
  const settings = join(dir, "settings.xml");
  const global = join(dir, "global-settings.xml");
  await writeFile(
    settings,
    renderSettings({
      localRepository: join(dir, "local-repository"),
      repositoryUrl: opts.repositoryUrl,
      ...(opts.token ? { token: opts.token } : {}),
    }),
  );
  await writeFile(global, "<settings/>\n");
  await writeFile(join(dir, "pom.xml"), renderPom(opts.dependencies));
  for (const [path, text] of Object.entries(opts.sources)) {
    const file = join(dir, "src/main/java", path);
    await mkdir(join(file, ".."), { recursive: true });
    await writeFile(file, text);
  }
  // HOME keeps the machine's ~/.m2 and ~/.mavenrc out; MAVEN_OPTS and friends are not inherited.
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
  };
  const run = (file: string, args: string[]) =>
    new Promise<MavenResult>((resolve) => {
      execFile(
        file,
        args,
        { cwd: dir, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
        (err, stdout, stderr) => {
          resolve({
            code: err ? (typeof err.code === "number" ? err.code : 1) : 0,
            output: `${stdout}${stderr}`,
          });
        },
      );
    });
  const tryMvn = (args: string[]) =>
    run("mvn", [
      "-B",
      "--no-transfer-progress",
      "-Dstyle.color=never",
      "-s",
      settings,
      "-gs",
      global,
      ...args,
    ]);
  const mvn = async (args: string[]) => {
    const res = await tryMvn(args);
    if (res.code !== 0) throw new Error(`mvn ${args.join(" ")} exited ${res.code}:\n${res.output}`);
    return res;
  };
  return {
    dir,
    mvn,
    tryMvn,
    async compileAndRun(mainClass) {
      const cpFile = join(dir, "classpath.txt");
      await mvn(["-q", "compile", "dependency:build-classpath", `-Dmdep.outputFile=${cpFile}`]);
      const { readFile } = await import("node:fs/promises");
      const classpath = `${join(dir, "target/classes")}:${(await readFile(cpFile, "utf8")).trim()}`;
      const res = await run("java", ["-cp", classpath, mainClass]);
      if (res.code !== 0) throw new Error(`java ${mainClass} exited ${res.code}:\n${res.output}`);
      return res.output;
    },
  };
}
