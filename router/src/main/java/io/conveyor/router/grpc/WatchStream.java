package io.conveyor.router.grpc;

import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.router.core.AssignmentSubscriber;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * One sidecar's WatchAssignments stream. Sends at once when the transport is ready; otherwise holds
 * the commands, coalescing assignment sets to the newest (a set replaces its predecessors whole),
 * so a stalled client costs at most one set and a few drain/revoke commands.
 */
final class WatchStream implements AssignmentSubscriber {

  /** Bound on held commands other than the newest assignment set. */
  private static final int MAX_HELD_COMMANDS = 64;

  private final String sidecarId;
  private final ServerCallStreamObserver<AssignmentUpdate> stream;
  private final List<Command> held = new ArrayList<>();
  private Command newestAssign;
  private boolean closed;

  WatchStream(String sidecarId, ServerCallStreamObserver<AssignmentUpdate> stream) {
    this.sidecarId = sidecarId;
    this.stream = stream;
  }

  @Override
  public synchronized void send(List<Command> commands) {
    if (closed) {
      return;
    }
    for (Command command : commands) {
      if (command.hasAssign()) {
        if (newestAssign == null
            || command.getAssign().getVersion() > newestAssign.getAssign().getVersion()) {
          newestAssign = command;
        }
      } else if (held.size() < MAX_HELD_COMMANDS) {
        held.add(command);
      }
    }
    flush();
  }

  /** Sends what is held if the transport can take it. Also the stream's on-ready handler. */
  synchronized void flush() {
    if (closed || stream.isCancelled() || !stream.isReady()) {
      return;
    }
    if (held.isEmpty() && newestAssign == null) {
      return;
    }
    AssignmentUpdate.Builder update = AssignmentUpdate.newBuilder().addAllCommands(held);
    if (newestAssign != null) {
      update.addCommands(newestAssign);
    }
    held.clear();
    newestAssign = null;
    stream.onNext(update.build());
  }

  @Override
  public synchronized void close(String reason) {
    if (closed) {
      return;
    }
    closed = true;
    if (!stream.isCancelled()) {
      stream.onError(
          Status.NOT_FOUND
              .withDescription("watch of sidecar " + sidecarId + " ended: " + reason)
              .asRuntimeException());
    }
  }
}
