package io.yinxin.ops.cli;

import io.yinxin.ops.YinxinApplication;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;
import tools.jackson.databind.JsonNode;

/** {@code yinxin ca ...}: the CA's REST API, and {@code ca init} on the node's configuration. */
@Command(
    name = "ca",
    description = "Certificates: init, issue, revoke, crl, list.",
    mixinStandardHelpOptions = true,
    subcommands = {
      CaCommand.Init.class,
      CaCommand.Issue.class,
      CaCommand.Revoke.class,
      CaCommand.Crl.class,
      CaCommand.ListCerts.class
    })
final class CaCommand {
  static final String TOKEN_ENV = "YINXIN_CA_TOKEN";

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Create the CA hierarchy of the configuration (what is missing only; idempotent).",
        "Checks every key backend it needs before it creates anything.",
        "",
        "Example: yinxin ca init --spring.profiles.active=prod --yinxin.ca.key-backend=pkcs11"
      })
  static final class Init implements Callable<Integer> {
    @Unmatched List<String> settings = new ArrayList<>();

    @Override
    public Integer call() {
      List<String> args = new ArrayList<>(settings);
      args.add("--spring.main.web-application-type=none");
      args.add("--yinxin.ca.init-on-start=false");
      args.add("--yinxin.ca.init-only=true");
      // CaInitCommand prints what it did and exits the process with its status.
      SpringApplication.run(YinxinApplication.class, args.toArray(String[]::new));
      return 0;
    }
  }

  @Command(
      name = "issue",
      mixinStandardHelpOptions = true,
      description = {
        "Issue a certificate from a PKCS#10 request (the key stays with its holder).",
        "Token: $" + TOKEN_ENV + " (scope ca:issue) or dev.json.",
        "",
        "Example: yinxin ca issue --profile citizen-sign --csr me.csr \\",
        "           --subject name=张三 --subject idNumber=11010519491231002X --out me.pem"
      })
  static final class Issue implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--profile", required = true, description = "Certificate profile")
    String profile;

    @Option(names = "--csr", required = true, description = "PEM PKCS#10 request file")
    Path csr;

    @Option(names = "--subject", description = "Subject attribute as key=value (repeatable)")
    Map<String, String> subject = new LinkedHashMap<>();

    @Option(names = "--dns", description = "DNS name for the SAN (repeatable)")
    List<String> dns = new ArrayList<>();

    @Option(names = "--out", description = "Write the certificate (PEM) here")
    Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("profile", profile);
      body.put("csr", Files.readString(csr));
      if (!subject.isEmpty()) {
        body.put("subject", subject);
      }
      if (!dns.isEmpty()) {
        body.put("san", Map.of("dns", dns));
      }
      JsonNode r =
          node.call(
              node.request("/ca/v1/certificates", node.token(TOKEN_ENV, "caOperatorToken"))
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          Node.JSON.writeValueAsString(body), StandardCharsets.UTF_8)));
      if (out != null) {
        Files.writeString(out, r.path("certificate").asString());
      }
      PrintOut.print(
          spec, node, r, r.path("issuer").asString() + " " + r.path("serial").asString());
      return 0;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = {
        "Revoke a certificate (certificateHold puts it on hold).",
        "",
        "Example: yinxin ca revoke citizen 5f0c3a… --reason keyCompromise"
      })
  static final class Revoke implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "ISSUER")
    String issuer;

    @Parameters(index = "1", paramLabel = "SERIAL", description = "Hex serial number")
    String serial;

    @Option(
        names = "--reason",
        defaultValue = "unspecified",
        description = "RFC 5280 reason, e.g. keyCompromise, superseded (default: ${DEFAULT-VALUE})")
    String reason;

    @Option(
        names = "--invalidity-date",
        paramLabel = "INSTANT",
        description =
            "When the key was compromised or suspected to be (RFC 5280 invalidityDate), e.g."
                + " 2026-11-30T08:00:00Z")
    String invalidityDate;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Map<String, String> body = new LinkedHashMap<>();
      body.put("reason", reason);
      if (invalidityDate != null) {
        body.put("invalidityDate", invalidityDate);
      }
      JsonNode r =
          node.call(
              node.request(
                      "/ca/v1/certificates/" + enc(issuer) + "/" + enc(serial) + "/revoke",
                      node.token(TOKEN_ENV, "caOperatorToken"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(Node.JSON.writeValueAsString(body))));
      PrintOut.print(
          spec,
          node,
          r,
          r.path("issuer").asString()
              + " "
              + r.path("serial").asString()
              + " "
              + r.path("status").asString());
      return 0;
    }
  }

  @Command(
      name = "crl",
      mixinStandardHelpOptions = true,
      description = {
        "Publish a CRL of one CA partition now.",
        "",
        "Example: yinxin ca crl citizen"
      })
  static final class Crl implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "CA")
    String ca;

    @Option(names = "--partition", defaultValue = "0")
    int partition;

    @Option(names = "--delta", description = "A delta CRL instead of a full one")
    boolean delta;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r =
          node.call(
              node.request(
                      "/ca/v1/cas/"
                          + enc(ca)
                          + "/crls?partition="
                          + partition
                          + (delta ? "&delta=true" : ""),
                      node.token(TOKEN_ENV, "caOperatorToken"))
                  .POST(HttpRequest.BodyPublishers.noBody()));
      PrintOut.print(spec, node, r, "published " + Node.pretty(r));
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "List certificates, newest first, a page at a time: when the page is full, the last line",
        "says which --after gives the next one.",
        "",
        "Example: yinxin ca list --profile citizen-sign --status revoked"
      })
  static final class ListCerts implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--issuer")
    String issuer;

    @Option(names = "--profile")
    String profile;

    @Option(names = "--status", description = "valid, revoked or on-hold")
    String status;

    @Option(names = "--subject", description = "part of the subject name")
    String subject;

    @Option(names = "--after", description = "ISSUER/SERIAL: the page after this certificate")
    String after;

    @Option(names = "--limit", defaultValue = "100", description = "1-1000 (default 100)")
    int limit;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      String q =
          Node.query(
              "limit", limit, "issuer", issuer, "profile", profile, "status", status, "subject",
              subject, "after", after);
      JsonNode r =
          node.call(
              node.request("/ca/v1/certificates" + q, node.token(TOKEN_ENV, "caOperatorToken"))
                  .GET());
      if (node.json) {
        spec.commandLine().getOut().println(Node.pretty(r));
        return 0;
      }
      for (JsonNode c : r.path("items")) {
        spec.commandLine()
            .getOut()
            .printf(
                "%-14s %-34s %-8s %-18s %s%n",
                c.path("issuer").asString(),
                c.path("serial").asString(),
                c.path("status").asString(),
                c.path("profile").asString(),
                c.path("subject").asString());
      }
      Node.printNext(spec, r);
      return 0;
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
