package io.yinxin.ops;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The Yinxin node: every module's auto-configuration, assembled into one executable. */
@SpringBootApplication
public class YinxinApplication {
  public static void main(String[] args) {
    SpringApplication.run(YinxinApplication.class, args);
  }
}
