package io.conveyor.podtest.spec;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** What containerd's CRI plugin gives every container unless the pod spec says otherwise. */
final class RuntimeDefaults {

  /** containerd's default capability set (pkg/oci defaultUnixCaps). */
  static final List<String> CAPABILITIES =
      List.of(
          "CAP_CHOWN",
          "CAP_DAC_OVERRIDE",
          "CAP_FSETID",
          "CAP_FOWNER",
          "CAP_MKNOD",
          "CAP_NET_RAW",
          "CAP_SETGID",
          "CAP_SETUID",
          "CAP_SETFCAP",
          "CAP_SETPCAP",
          "CAP_NET_BIND_SERVICE",
          "CAP_SYS_CHROOT",
          "CAP_KILL",
          "CAP_AUDIT_WRITE");

  /**
   * seccomp RuntimeDefault, approximated: containerd's profile is an allow-list of ~350 syscalls;
   * this is the deny-list Docker documents as "significant syscalls blocked by the default
   * profile", answered with EPERM. A process that needs one of these fails here as in a cluster;
   * the converse (a syscall the real allow-list misses) is not caught.
   */
  static final List<String> SECCOMP_DENIED =
      List.of(
          "acct",
          "add_key",
          "bpf",
          "clock_adjtime",
          "clock_settime",
          "create_module",
          "delete_module",
          "finit_module",
          "get_kernel_syms",
          "get_mempolicy",
          "init_module",
          "ioperm",
          "iopl",
          "kcmp",
          "kexec_file_load",
          "kexec_load",
          "keyctl",
          "lookup_dcookie",
          "mbind",
          "mount",
          "move_pages",
          "name_to_handle_at",
          "nfsservctl",
          "open_by_handle_at",
          "perf_event_open",
          "pivot_root",
          "process_vm_readv",
          "process_vm_writev",
          "ptrace",
          "query_module",
          "quotactl",
          "reboot",
          "request_key",
          "set_mempolicy",
          "setns",
          "settimeofday",
          "stime",
          "swapon",
          "swapoff",
          "sysfs",
          "_sysctl",
          "umount",
          "umount2",
          "unshare",
          "uselib",
          "userfaultfd",
          "ustat",
          "vm86",
          "vm86old");

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private RuntimeDefaults() {}

  static ObjectNode seccompRuntimeDefault() {
    ObjectNode seccomp = JSON.objectNode();
    seccomp.put("defaultAction", "SCMP_ACT_ALLOW");
    seccomp.putArray("architectures").add("SCMP_ARCH_X86_64").add("SCMP_ARCH_X86");
    ObjectNode denied = seccomp.putArray("syscalls").addObject();
    SECCOMP_DENIED.forEach(denied.putArray("names")::add);
    denied.put("action", "SCMP_ACT_ERRNO");
    denied.put("errnoRet", 1);
    return seccomp;
  }

  /** The mounts every container gets (runc's and containerd's defaults). */
  static void addSystemMounts(ArrayNode mounts) {
    mount(mounts, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
    mount(
        mounts,
        "/dev",
        "tmpfs",
        "tmpfs",
        List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
    mount(
        mounts,
        "/dev/pts",
        "devpts",
        "devpts",
        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
    mount(
        mounts,
        "/dev/shm",
        "shm",
        "tmpfs",
        List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
    mount(mounts, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
    mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
    mount(
        mounts,
        "/sys/fs/cgroup",
        "cgroup",
        "cgroup",
        List.of("nosuid", "noexec", "nodev", "relatime", "ro"));
  }

  static void mount(
      ArrayNode mounts, String destination, String source, String type, List<String> options) {
    ObjectNode mount = mounts.addObject();
    mount.put("destination", destination);
    mount.put("type", type);
    mount.put("source", source);
    options.forEach(mount.putArray("options")::add);
  }

  static void maskedAndReadonlyPaths(ObjectNode linux) {
    List.of(
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/proc/scsi",
            "/sys/firmware")
        .forEach(linux.putArray("maskedPaths")::add);
    List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
        .forEach(linux.putArray("readonlyPaths")::add);
  }
}
