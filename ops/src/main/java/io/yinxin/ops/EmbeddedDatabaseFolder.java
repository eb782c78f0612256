package io.yinxin.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The embedded default's H2 files hold the private event store (names, full ID numbers): before the
 * data source opens them, their folder is made owner-only (0700) and any file already in it 0600,
 * as the key store and token files are. Runs before any bean is created.
 */
@Component
class EmbeddedDatabaseFolder implements BeanFactoryPostProcessor, EnvironmentAware {
  private Environment env;

  @Override
  public void setEnvironment(Environment environment) {
    this.env = environment;
  }

  @Override
  public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
    String url = env.getProperty("spring.datasource.url", "");
    if (!url.startsWith("jdbc:h2:file:")) {
      return;
    }
    String file = url.substring("jdbc:h2:file:".length()).split(";", 2)[0];
    Path folder = Path.of(file).toAbsolutePath().getParent();
    try {
      Files.createDirectories(folder);
      if (!Files.getFileStore(folder).supportsFileAttributeView("posix")) {
        return;
      }
      Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
      try (Stream<Path> files = Files.list(folder)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          if (Files.isRegularFile(f)) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make the database folder owner-only: " + folder, e);
    }
  }
}
