package io.conveyor.examples.local;

import io.conveyor.common.contract.SidecarProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the command line of a component: {@code java [options] -jar <jar>} from the built jars
 * (the demo and the benchmark), or {@code java [options] -cp <classpath> <main>} (end-to-end tests
 * that run before the jars are packaged).
 */
public final class Launcher {

  private final Path repoRoot;
  private final Optional<String> classpath;
  private final String java;
  private final boolean classArchives;
  private final Map<Component, List<String>> commands;
  private final Map<Component, List<String>> overridingOptions;
  private final SidecarProfile profile;

  private Launcher(
      Path repoRoot,
      Optional<String> classpath,
      boolean classArchives,
      Map<Component, List<String>> commands,
      Map<Component, List<String>> overridingOptions,
      SidecarProfile profile) {
    this.overridingOptions = overridingOptions;
    this.profile = profile;
    this.repoRoot = repoRoot.toAbsolutePath().normalize();
    this.classpath = classpath;
    this.java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    this.classArchives = classArchives;
    this.commands = commands;
  }

  /**
   * Runs the packaged jars under {@code repoRoot}, each with its class-data-sharing archive where
   * the build made one.
   */
  public static Launcher jars(Path repoRoot) {
    return new Launcher(
        repoRoot, Optional.empty(), true, Map.of(), Map.of(), SidecarProfile.COMPACT);
  }

  /** Runs main classes from {@code classpath} (e.g. the test JVM's own). */
  public static Launcher classpath(Path repoRoot, String classpath) {
    return new Launcher(
        repoRoot, Optional.of(classpath), false, Map.of(), Map.of(), SidecarProfile.COMPACT);
  }

  /** The JVM option that names an application class archive. */
  public static final String SHARED_ARCHIVE_FILE = "-XX:SharedArchiveFile=";

  /**
   * The same launcher, starting every JVM without an application class archive (taken out of the
   * commands given with {@link #withCommand} too).
   */
  public Launcher withoutClassArchives() {
    Map<Component, List<String>> without = new EnumMap<>(Component.class);
    commands.forEach(
        (component, command) ->
            without.put(
                component,
                command.stream().filter(a -> !a.startsWith(SHARED_ARCHIVE_FILE)).toList()));
    return new Launcher(
        repoRoot, classpath, false, Map.copyOf(without), overridingOptions, profile);
  }

  /**
   * The same launcher, adding {@code options} to {@code component}'s JVM options after its options
   * file (and after the options added before), so that they override it (e.g. the benchmark's
   * {@code BENCH_SIDECAR_JVM_FLAGS}, to measure another JIT mode). Not for components given a whole
   * command.
   */
  public Launcher withOverridingOptions(Component component, List<String> options) {
    Map<Component, List<String>> all = new EnumMap<>(Component.class);
    all.putAll(overridingOptions);
    List<String> combined = new ArrayList<>(overridingOptions.getOrDefault(component, List.of()));
    combined.addAll(options);
    all.put(component, List.copyOf(combined));
    return new Launcher(repoRoot, classpath, classArchives, commands, Map.copyOf(all), profile);
  }

  /**
   * The same launcher, running {@code component} as {@code command} followed by its arguments,
   * exactly: no JVM options file or class archive is added (e.g. the sidecar's image entrypoint
   * inside the image's root filesystem, for the training of the image's class archive).
   */
  public Launcher withCommand(Component component, List<String> command) {
    Map<Component, List<String>> all = new EnumMap<>(Component.class);
    all.putAll(commands);
    all.put(component, List.copyOf(command));
    return new Launcher(
        repoRoot, classpath, classArchives, Map.copyOf(all), overridingOptions, profile);
  }

  /**
   * The same launcher, running the sidecar with {@code profile} (the compact one by default): its
   * argfile before {@code sidecar/jvm.options} for the jar, or, for a sidecar given a whole command
   * (its image's entrypoint), in {@link SidecarProfile#JVM_OPTIONS_VARIABLE} as the injector sets
   * it (see {@link #environment}).
   */
  public Launcher withSidecarProfile(SidecarProfile profile) {
    return new Launcher(repoRoot, classpath, classArchives, commands, overridingOptions, profile);
  }

  public SidecarProfile sidecarProfile() {
    return profile;
  }

  /**
   * The environment of a {@code component} process given {@code env}: {@code env}, and for a
   * component with profiles that runs a whole command (an image's entrypoint, whose JVM reads its
   * profile from the environment as in an injected pod) the profile's argfile in the image, before
   * any JVM arguments {@code env} gives (e.g. a benchmark's profiler agent).
   */
  public Map<String, String> environment(Component component, Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    if (component.profiles().isPresent() && commands.containsKey(component)) {
      all.merge(
          SidecarProfile.JVM_OPTIONS_VARIABLE,
          profile.jvmOptionsArgument(),
          (given, argfile) -> argfile + " " + given);
    }
    return Map.copyOf(all);
  }

  /**
   * The class archive {@code component}'s JVMs start with: only for the packaged jar it was made
   * from (an archive records its class path; another class path cannot use it).
   */
  public Optional<Path> classArchive(Component component) {
    if (!classArchives || classpath.isPresent()) {
      return Optional.empty();
    }
    return component.classArchive().map(repoRoot::resolve).filter(Files::isRegularFile);
  }

  /**
   * The repository root: the nearest ancestor of the working directory holding the launcher script.
   */
  public static Path findRepoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("conveyor")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find the repository root (a folder with ./conveyor) above " + dir);
  }

  public Path repoRoot() {
    return repoRoot;
  }

  /** Checks that what this launcher runs exists; returns the problems. */
  public List<String> missing() {
    List<String> missing = new ArrayList<>();
    for (Component component : Component.values()) {
      if (classpath.isEmpty() && !Files.isRegularFile(repoRoot.resolve(component.jar()))) {
        missing.add(component.jar());
      }
      profileFile(component)
          .filter(file -> !Files.isRegularFile(file))
          .ifPresent(file -> missing.add(repoRoot.relativize(file).toString()));
    }
    return missing;
  }

  /**
   * The argfile of the sidecar's profile, for a component with profiles run from the repository.
   */
  private Optional<Path> profileFile(Component component) {
    if (commands.containsKey(component)) {
      return Optional.empty(); // a whole command: its JVM reads the profile from the environment
    }
    return component.profiles().map(folder -> repoRoot.resolve(folder).resolve(profile.fileName()));
  }

  public List<String> command(Component component, List<String> args) {
    List<String> command = new ArrayList<>();
    if (commands.containsKey(component)) {
      command.addAll(commands.get(component));
      command.addAll(args);
      return command;
    }
    command.add(java);
    // The profile first, then the options file: the order of the image, whose JVM reads the
    // profile from JDK_JAVA_OPTIONS, which the java launcher puts before the command line. So a
    // flag in both would win from the options file here as it does there.
    profileFile(component).ifPresent(file -> command.add("@" + file));
    component
        .jvmOptionsFile()
        .map(repoRoot::resolve)
        .filter(Files::isRegularFile)
        .ifPresent(file -> command.add("@" + file));
    component
        .nativeLibraries()
        .map(repoRoot::resolve)
        .filter(Files::isDirectory)
        .ifPresent(dir -> command.add("-Djava.library.path=" + dir));
    // -Xshare:auto (the default, said out loud): an archive the JVM finds stale (the jar rebuilt
    // since, another JDK) is ignored and the classes load from the jar; the JVM still starts.
    classArchive(component)
        .ifPresent(
            archive -> {
              command.add(SHARED_ARCHIVE_FILE + archive);
              command.add("-Xshare:auto");
            });
    command.addAll(overridingOptions.getOrDefault(component, List.of()));
    if (classpath.isPresent()) {
      command.add("-cp");
      command.add(classpath.get());
      command.add(component.mainClass());
    } else {
      command.add("-jar");
      command.add(repoRoot.resolve(component.jar()).toString());
    }
    command.addAll(args);
    return command;
  }
}
