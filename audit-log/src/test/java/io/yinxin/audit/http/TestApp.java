package io.yinxin.audit.http;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;

/** The audit module alone, as a node would run it. */
@SpringBootConfiguration
@EnableAutoConfiguration
public class TestApp {}
