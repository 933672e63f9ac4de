import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { APICURIO_VERSION, KAFKA_VERSION, StackPaths } from './layout';

const run = promisify(execFile);

/** Apicurio ships as a Quarkus fast-jar (`quarkus-run.jar`, 3.1+) or an uber-jar (`*-runner.jar`, 3.0). */
export function apicurioLauncher(home: string): string {
  const jar = existsSync(path.join(home, 'quarkus-run.jar')) ? 'quarkus-run.jar' : readdirSync(home).find((name) => name.endsWith('-runner.jar'));
  if (!jar) throw new Error(`no quarkus-run.jar or *-runner.jar in ${home}; delete that folder to fetch it again`);
  return path.join(home, jar);
}

/**
 * Fetches the broker and registry from Maven Central through `mvn`, so the local repository
 * (~/.m2) caches them across checkouts; each is unpacked once into the stack folder.
 */
export async function ensureArtifacts(paths: StackPaths, say: (line: string) => void): Promise<void> {
  await ensureKafka(paths, say);
  await ensureApicurio(paths, say);
}

async function ensureKafka(paths: StackPaths, say: (line: string) => void): Promise<void> {
  if (existsSync(path.join(paths.kafkaLibs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return;
  say(`fetching org.apache.kafka:kafka_2.13:${KAFKA_VERSION} and its runtime dependencies from Maven Central`);
  const work = `${paths.kafkaLibs}.partial`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // reload4j is the logging backend Kafka's own distribution ships; without it the broker logs nothing.
  writeFileSync(
    path.join(work, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>capture-worker.stack</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`,
  );
  await mvn(['-f', path.join(work, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(work, 'libs')}`]);
  renameSync(path.join(work, 'libs'), paths.kafkaLibs);
  rmSync(work, { recursive: true, force: true });
}

async function ensureApicurio(paths: StackPaths, say: (line: string) => void): Promise<void> {
  if (existsSync(paths.apicurioHome)) return;
  const coordinates = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
  say(`fetching ${coordinates} (about 160 MB) from Maven Central`);
  const work = `${paths.apicurioHome}.partial`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  await mvn(['dependency:copy', `-Dartifact=${coordinates}`, `-DoutputDirectory=${work}`], work);
  const archive = readdirSync(work).find((name) => name.endsWith('.tar.gz'));
  if (!archive) throw new Error(`Maven reported success but no archive for ${coordinates} is in ${work}`);
  await run('tar', ['xzf', archive], { cwd: work });
  rmSync(path.join(work, archive));
  renameSync(work, paths.apicurioHome);
}

async function mvn(args: string[], cwd?: string): Promise<void> {
  try {
    await run('mvn', ['-q', '-B', ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const detail = `${e.stdout ?? ''}${e.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .slice(0, 5)
      .join('\n');
    throw new Error(`mvn ${args.join(' ')} failed. Is Maven installed and Maven Central reachable?\n${detail || e.message}`, { cause: error });
  }
}
