package io.conveyor.sidecar.wire;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses a wire view so that its {@code bytes} fields — the records — are slices of the one buffer
 * the message was read into, not copies: reading a 500-record batch allocates one array and 500
 * small slice objects. The buffer is private to the message, so aliasing it is safe. Writing is
 * protobuf's usual path.
 */
final class AliasingMarshaller<T extends Message> implements MethodDescriptor.Marshaller<T> {

  private final MethodDescriptor.Marshaller<T> writer;
  private final Parser<T> parser;

  @SuppressWarnings("unchecked")
  AliasingMarshaller(T defaultInstance) {
    this.writer = ProtoUtils.marshaller(defaultInstance);
    this.parser = (Parser<T>) defaultInstance.getParserForType();
  }

  @Override
  public InputStream stream(T value) {
    return writer.stream(value);
  }

  @Override
  public T parse(InputStream stream) {
    try {
      byte[] bytes = readAll(stream);
      CodedInputStream input = CodedInputStream.newInstance(bytes);
      input.enableAliasing(true);
      input.setSizeLimit(Integer.MAX_VALUE);
      T message = parser.parseFrom(input);
      input.checkLastTagWas(0);
      return message;
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL
          .withDescription("invalid protobuf message: " + e.getMessage())
          .withCause(e)
          .asRuntimeException();
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("cannot read message")
          .withCause(e)
          .asRuntimeException();
    }
  }

  private static byte[] readAll(InputStream stream) throws IOException {
    if (stream instanceof KnownLength) {
      int size = stream.available();
      byte[] bytes = new byte[size];
      int read = 0;
      while (read < size) {
        int n = stream.read(bytes, read, size - read);
        if (n < 0) {
          throw new IOException("message ended after " + read + " of " + size + " bytes");
        }
        read += n;
      }
      return bytes;
    }
    return stream.readAllBytes();
  }
}
