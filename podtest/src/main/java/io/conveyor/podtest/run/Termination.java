package io.conveyor.podtest.run;

/**
 * How a container run ended, as a kubelet reports it in {@code lastState.terminated}: the exit
 * code, the reason (Completed, Error, OOMKilled) and the termination message.
 */
public record Termination(int exitCode, String reason, String message) {

  public boolean oomKilled() {
    return reason.equals("OOMKilled");
  }
}
