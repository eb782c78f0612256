package io.yinxin.ca.http;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;

/** The CA with the audit log and key backends, as a node runs it. */
@SpringBootConfiguration
@EnableAutoConfiguration
public class TestApp {}
