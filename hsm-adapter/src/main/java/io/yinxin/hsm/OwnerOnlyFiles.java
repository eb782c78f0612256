package io.yinxin.hsm;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * Files only their owner may read (mode 600) that hold secrets: key files, the soft backend's
 * password, the embedded default's generated tokens. Every write goes through a temporary file of
 * its own, synced, so nobody ever reads one half-written: nodes starting at once on one data folder
 * (pods sharing a volume) used to create such a file and then write it, and another could read it
 * empty (the soft backend's password: keys written under an empty password) or fail its start on
 * the file the first had just created.
 */
public final class OwnerOnlyFiles {
  private OwnerOnlyFiles() {}

  /**
   * Creates {@code file} holding {@code content}, unless it exists: the content goes to a temporary
   * file that is then hard-linked to the name, which fails if the name is taken, so the first
   * creator's content stays and every reader sees it whole.
   *
   * @return whether this call created the file
   */
  public static boolean createIfAbsent(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = writeTemporary(file, content);
    try {
      try {
        Files.createLink(file, tmp);
      } catch (UnsupportedOperationException e) {
        // No hard links on this file system: a rename, which a racing creator could replace.
        if (Files.exists(file)) {
          return false;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      }
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Writes {@code content} to {@code file}, replacing it in one step (a rename). */
  public static void replace(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = writeTemporary(file, content);
    try {
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * The properties in {@code file}; when it does not exist, {@code fresh} written there first (as
   * {@link #createIfAbsent}: of several callers at once, all get the first one's).
   *
   * @throws IOException also when the file is empty (one half-written by a version before this)
   */
  public static Properties createOrLoad(Path file, Supplier<Properties> fresh, String comment)
      throws IOException {
    if (!Files.exists(file)) {
      createIfAbsent(file, bytes(fresh.get(), comment));
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Properties props = new Properties();
    props.load(new StringReader(text));
    if (props.isEmpty()) {
      throw new IOException("empty secrets file " + file + ": delete it to have it made again");
    }
    return props;
  }

  /** {@code props} as a properties file's bytes (UTF-8), with {@code comment}. */
  public static byte[] bytes(Properties props, String comment) {
    StringWriter w = new StringWriter();
    try {
      props.store(w, comment);
    } catch (IOException e) {
      throw new IllegalStateException(e); // a StringWriter does not fail
    }
    return w.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A new owner-only temporary file beside {@code file} holding {@code content}, synced. */
  private static Path writeTemporary(Path file, byte[] content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    String prefix = file.getFileName() + ".";
    Path tmp;
    try {
      tmp =
          Files.createTempFile(
              dir,
              prefix,
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      tmp = Files.createTempFile(dir, prefix, ".tmp");
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    return tmp;
  }
}
