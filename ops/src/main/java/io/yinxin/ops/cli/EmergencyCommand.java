package io.yinxin.ops.cli;

import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code yinxin emergency ...}: the one-command incident procedures (README, "Emergencies"). */
@Command(
    name = "emergency",
    description = "Incident procedures, each with a dry run: ca-compromise.",
    mixinStandardHelpOptions = true,
    subcommands = {
      EmergencyCommand.CaCompromise.class,
      EmergencyCommand.SealCompromise.class,
      EmergencyCommand.ServiceCompromise.class,
      EmergencyCommand.CheckpointKeyCompromise.class
    })
final class EmergencyCommand {
  /** {@code --since}: when a key may first have been out of the operator's control. */
  static final class Since {
    @Option(
        names = "--since",
        required = true,
        paramLabel = "INSTANT",
        description =
            "ISO-8601 instant: when the key may first have been out of your control; its"
                + " signatures from then on are distrusted")
    String value;

    java.time.Instant parse(picocli.CommandLine.Model.CommandSpec spec) {
      try {
        return java.time.Instant.parse(value);
      } catch (java.time.format.DateTimeParseException e) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--since must be an ISO-8601 instant, e.g. 2026-11-30T08:00:00Z");
      }
    }
  }

  static final String AUDIT_ADMIN_TOKEN_ENV = "YINXIN_AUDIT_ADMIN_TOKEN";

  @Command(
      name = "checkpoint-key-compromise",
      mixinStandardHelpOptions = true,
      description = {
        "The evidence log's checkpoint key is compromised: a new key becomes the active one, the",
        "old one is retired and distrusted from --since; the rotation is itself a log entry, and",
        "the new key's first checkpoint covers the whole log, consistent with every earlier one.",
        "Checkpoints the old key signed stay verifiable with it (GET /audit/v1/keys lists every",
        "key). Give monitors the new key (--key NEW --previous-key OLD) and witnesses too.",
        "Without --yes: a dry run. Token: $"
            + AUDIT_ADMIN_TOKEN_ENV
            + " (audit:admin) or dev.json.",
        "",
        "Example: yinxin emergency checkpoint-key-compromise --since 2026-11-30T08:00:00Z --yes"
      })
  static final class CheckpointKeyCompromise implements Callable<Integer> {
    @Mixin Node node;

    @Mixin Since since;

    @Option(names = "--yes", description = "Rotate (without it: a dry run)")
    boolean yes;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      since.parse(spec);
      JsonNode r =
          node.call(
              node.request(
                      "/audit/v1/keys/rotate?distrustedFrom="
                          + CaCommand.enc(since.value)
                          + (yes ? "&confirm=rotate" : "&dryRun=true"),
                      node.token(AUDIT_ADMIN_TOKEN_ENV, "auditAdminToken"))
                  .POST(HttpRequest.BodyPublishers.noBody()));
      var text = spec.commandLine().getOut();
      if (node.json) {
        text.println(Node.pretty(r));
      } else if (!yes) {
        text.println("DRY RUN: nothing was changed. Add --yes to run it.");
        text.printf(
            "would retire checkpoint key %s (distrusted from %s) and make a new one active%n",
            r.path("oldKey").asString(), r.path("distrustedFrom").asString());
      } else {
        text.printf(
            "retired %s (distrusted from %s)%nnew checkpoint key: %s%nfirst checkpoint it signed:"
                + " size %d%n",
            r.path("oldKey").asString(),
            r.path("distrustedFrom").asString(),
            r.path("newKey").asString(),
            r.path("checkpointSize").asLong());
      }
      return 0;
    }
  }

  @Command(
      name = "service-compromise",
      mixinStandardHelpOptions = true,
      description = {
        "A service key is compromised: the TSA's (tsa, tsa-sm2) or a CA's delegated OCSP signer's",
        "(ocsp-NAME). Makes a new key and certificate from the same CA (used at once, by every",
        "node within a second), revokes the old certificate (keyCompromise) with --since as its",
        "invalidity date, the time from which the old key is distrusted, and publishes the CRL.",
        "What the old key signed before --since stays verifiable. Without --yes: a dry run.",
        "Token: $" + CaCommand.TOKEN_ENV + " (scope ca:emergency) or dev.json.",
        "",
        "Example: yinxin emergency service-compromise tsa --since 2026-11-30T08:00:00Z --yes \\",
        "           --out new-tsa.pem"
      })
  static final class ServiceCompromise implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "SERVICE", description = "tsa, tsa-sm2, ocsp-CA")
    String service;

    @Mixin Since since;

    @Option(names = "--yes", description = "Run the procedure (without it: a dry run)")
    boolean yes;

    @Option(names = "--out", description = "Write the new certificate (PEM) here")
    java.nio.file.Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      since.parse(spec);
      String q =
          "/ca/v1/services/"
              + CaCommand.enc(service)
              + "/compromise?since="
              + CaCommand.enc(since.value)
              + (yes ? "&confirm=" + CaCommand.enc(service) : "&dryRun=true");
      JsonNode r =
          node.call(
              node.request(q, node.token(CaCommand.TOKEN_ENV, "caOperatorToken"))
                  .POST(HttpRequest.BodyPublishers.noBody()));
      if (out != null && r.has("newCertificate")) {
        java.nio.file.Files.writeString(out, r.path("newCertificate").asString());
      }
      var text = spec.commandLine().getOut();
      if (node.json) {
        text.println(Node.pretty(r));
        return 0;
      }
      if (!yes) {
        text.println("DRY RUN: nothing was changed. Add --yes to run it.");
        text.printf(
            "%s: would make a new key and certificate from %s, revoke certificate %s"
                + " (keyCompromise, distrusted from %s) and publish %s's CRL%n",
            service,
            r.path("issuer").asString(),
            r.path("oldSerial").asString(),
            r.path("distrustedFrom").asString(),
            r.path("issuer").asString());
        return 0;
      }
      text.printf(
          "%s: new certificate %s/%s; old certificate %s revoked (keyCompromise), distrusted from"
              + " %s; %s's CRL published%n",
          service,
          r.path("issuer").asString(),
          r.path("newSerial").asString(),
          r.path("oldSerial").asString(),
          r.path("distrustedFrom").asString(),
          r.path("issuer").asString());
      if (out != null) {
        text.println("new certificate written to " + out + ": give it to relying parties");
      }
      return 0;
    }
  }

  @Command(
      name = "seal-compromise",
      mixinStandardHelpOptions = true,
      description = {
        "A seal's key is compromised: disable the seal, revoke its certificate at the CA",
        "(keyCompromise) and publish that CA's CRL, and list from the evidence log every",
        "document sealed and every hash signed with it since --since (the list is written as an",
        "evidence bundle per kind of use with --out-dir, each verifiable offline with",
        "'yinxin audit verify').",
        "Without --yes this is a dry run: it lists and says what it would do, changing nothing.",
        "Tokens: $" + SealCommand.TOKEN_ENV + " (seal:admin), $" + CaCommand.TOKEN_ENV,
        "(ca:revoke, ca:crl, ca:read), $" + AuditCommand.TOKEN_ENV + " (audit:read), or dev.json.",
        "",
        "Example: yinxin emergency seal-compromise 3f9c… --since 2026-11-01T00:00:00Z --yes \\",
        "           --out-dir incident-42"
      })
  static final class SealCompromise implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "SEAL", description = "The seal's id")
    String seal;

    @Mixin Since since;

    @Option(names = "--yes", description = "Disable and revoke (without it: a dry run)")
    boolean yes;

    @Option(
        names = "--out-dir",
        description =
            "Write the evidence bundles of the seal's uses here: document-sealed.json, hash-signed.json")
    java.nio.file.Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      java.time.Instant from = since.parse(spec);
      var text = spec.commandLine().getOut();
      String sealToken = node.token(SealCommand.TOKEN_ENV, "sealToken");
      String caToken = node.token(CaCommand.TOKEN_ENV, "caOperatorToken");
      String auditToken = node.token(AuditCommand.TOKEN_ENV, "auditorToken");
      String sealPath = "/sign/v1/seals/" + CaCommand.enc(seal);
      JsonNode s = node.call(node.request(sealPath, sealToken).GET());
      String serial = s.path("certificateSerial").asString();
      org.bouncycastle.asn1.x500.X500Name issuerDn =
          new org.bouncycastle.asn1.x500.X500Name(s.path("certificateIssuer").asString());
      String ca = null;
      for (JsonNode c : node.call(node.request("/ca/v1/cas", null).GET()).path("items")) {
        if (new org.bouncycastle.asn1.x500.X500Name(c.path("subject").asString())
            .equals(issuerDn)) {
          ca = c.path("name").asString();
        }
      }
      JsonNode cert =
          ca == null
              ? null
              : node.call(
                  node.request(
                          "/ca/v1/certificates/" + CaCommand.enc(ca) + "/" + CaCommand.enc(serial),
                          caToken)
                      .GET());
      List<JsonNode> uses = new ArrayList<>();
      if (out != null) {
        java.nio.file.Files.createDirectories(out);
      }
      for (String type : List.of("DOCUMENT_SEALED", "HASH_SIGNED")) {
        JsonNode b =
            node.call(
                node.request("/audit/v1/bundles", auditToken)
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            Node.JSON.writeValueAsString(
                                java.util.Map.of(
                                    "type",
                                    type,
                                    "subject",
                                    seal,
                                    "from",
                                    from.toString(),
                                    "limit",
                                    10_000)))));
        if (out != null) {
          java.nio.file.Files.writeString(
              out.resolve(type.toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ".json"),
              Node.JSON.writeValueAsString(b));
        }
        for (JsonNode e : b.path("entries")) {
          uses.add(Node.JSON.readTree(e.path("event").asString()));
        }
      }
      var result = Node.JSON.createObjectNode();
      result.put("seal", seal);
      result.put("dryRun", !yes);
      result.put("sealStatus", s.path("status").asString());
      result.put("certificateSerial", serial);
      result.put("ca", ca);
      result.put("certificateStatus", cert == null ? null : cert.path("status").asString());
      result.set("uses", Node.JSON.valueToTree(uses));
      if (yes) {
        result.set(
            "disabled",
            node.call(
                node.request(sealPath + "/disable", sealToken)
                    .POST(HttpRequest.BodyPublishers.noBody())));
        if (cert != null && !cert.path("status").asString().equals("revoked")) {
          result.set(
              "revoked",
              node.call(
                  node.request(
                          "/ca/v1/certificates/"
                              + CaCommand.enc(ca)
                              + "/"
                              + CaCommand.enc(serial)
                              + "/revoke",
                          caToken)
                      .header("Content-Type", "application/json")
                      .POST(
                          HttpRequest.BodyPublishers.ofString("{\"reason\":\"keyCompromise\"}"))));
        }
        if (ca != null) {
          int partition = partition(cert.path("certificate").asString());
          result.set(
              "crl",
              node.call(
                  node.request(
                          "/ca/v1/cas/" + CaCommand.enc(ca) + "/crls?partition=" + partition,
                          caToken)
                      .POST(HttpRequest.BodyPublishers.noBody())));
        }
      }
      if (node.json) {
        text.println(Node.pretty(result));
        return 0;
      }
      String would = yes ? "" : "would ";
      if (!yes) {
        text.println("DRY RUN: nothing was changed. Add --yes to run it.");
      }
      text.printf(
          "seal %s (%s): %s%n",
          seal,
          s.path("name").asString(),
          yes ? "disabled" : "is " + s.path("status").asString() + "; " + would + "disable it");
      if (ca == null) {
        text.printf(
            "  its certificate %s was not issued by this node's CAs (%s): revoke it at its CA%n",
            serial, issuerDn);
      } else if (cert.path("status").asString().equals("revoked")) {
        text.printf(
            "  certificate %s/%s was revoked already; %spublish the CRL%n", ca, serial, would);
      } else {
        text.printf(
            "  %srevoke certificate %s/%s (keyCompromise) and publish %s's CRL%n",
            would, ca, serial, ca);
      }
      text.printf("%d uses since %s:%n", uses.size(), from);
      for (JsonNode u : uses) {
        JsonNode a = u.path("attributes");
        text.printf(
            "  %s %-15s %-20s %s%n",
            u.path("time").asString(),
            u.path("type").asString(),
            u.path("actor").asString(),
            a.has("documentSha256After")
                ? "document " + a.path("documentSha256After").asString()
                : a.toString());
      }
      if (out != null) {
        text.println("evidence bundles in " + out + " (yinxin audit verify FILE --key VKEY)");
      }
      return 0;
    }

    /** The CRL partition a certificate points at: .../ca/crl/{ca}/{partition}.crl. */
    static int partition(String pem) throws Exception {
      org.bouncycastle.cert.X509CertificateHolder c =
          new org.bouncycastle.cert.X509CertificateHolder(
              java.util.Base64.getMimeDecoder()
                  .decode(pem.replaceAll("-----[A-Z ]+-----", "").strip()));
      var points = org.bouncycastle.asn1.x509.CRLDistPoint.fromExtensions(c.getExtensions());
      if (points != null) {
        for (var dp : points.getDistributionPoints()) {
          java.util.regex.Matcher m =
              java.util.regex.Pattern.compile("/([0-9]+)\\.crl")
                  .matcher(dp.getDistributionPoint().getName().toString());
          if (m.find()) {
            return Integer.parseInt(m.group(1));
          }
        }
      }
      return 0;
    }
  }

  @Command(
      name = "ca-compromise",
      mixinStandardHelpOptions = true,
      description = {
        "An issuing CA's key is compromised: revoke the CA's certificate at its parent, revoke",
        "every certificate it issued (reason cACompromise), publish the CRLs at once, create what",
        "the hierarchy file adds (the replacement CA and its OCSP signer) and, with --reissue,",
        "re-issue from the replacement for every subscriber whose own key is fine.",
        "Without --yes this is a dry run: it says what would happen and changes nothing.",
        "Token: $" + CaCommand.TOKEN_ENV + " (scope ca:emergency) or dev.json.",
        "",
        "Example: yinxin emergency ca-compromise citizen            # dry run",
        "         yinxin emergency ca-compromise citizen --yes --reissue"
      })
  static final class CaCompromise implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "CA", description = "The compromised issuing CA")
    String ca;

    @Option(names = "--yes", description = "Run the procedure (without it: a dry run)")
    boolean yes;

    @Option(names = "--dry-run", description = "Only say what would happen (the default)")
    boolean dryRun;

    @Option(
        names = "--reissue",
        description = "Then re-issue the revoked certificates from the replacement CA")
    boolean reissue;

    @Option(
        names = "--batch",
        defaultValue = "500",
        description = "Certificates re-issued per request (default: ${DEFAULT-VALUE})")
    int batch;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (yes && dryRun) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--yes and --dry-run exclude each other");
      }
      String token = node.token(CaCommand.TOKEN_ENV, "caOperatorToken");
      String path = "/ca/v1/cas/" + CaCommand.enc(ca) + "/compromise";
      var out = spec.commandLine().getOut();
      if (!yes) {
        JsonNode plan =
            node.call(
                node.request(path + "?dryRun=true", token)
                    .POST(HttpRequest.BodyPublishers.noBody()));
        if (node.json) {
          out.println(Node.pretty(plan));
          return 0;
        }
        out.println("DRY RUN: nothing was changed. Add --yes to run it.");
        describe(out, plan, "would ");
        if (reissue) {
          out.println("  would then re-issue " + plan.path("awaitingReissue").asLong() + "+");
        }
        return 0;
      }
      JsonNode r =
          node.call(
              node.request(path + "?confirm=" + CaCommand.enc(ca), token)
                  .POST(HttpRequest.BodyPublishers.noBody()));
      List<JsonNode> batches = new ArrayList<>();
      if (!node.json) {
        describe(out, r, "");
        out.printf(
            "revoked %d certificates; CRLs published %.1f s after the start (all done in %.1f"
                + " s)%n",
            r.path("revoked").asLong(),
            r.path("millisToCrls").asLong() / 1000.0,
            r.path("millisTotal").asLong() / 1000.0);
        if (!r.path("created").isEmpty()) {
          out.println("created: " + join(r.path("created")));
        }
      }
      if (reissue) {
        JsonNode plan =
            node.call(
                node.request(path + "?dryRun=true", token)
                    .POST(HttpRequest.BodyPublishers.noBody()));
        Progress progress =
            new Progress(
                out,
                "re-issued",
                plan.path("awaitingReissue").asLong(),
                !node.json && Progress.onTerminal());
        long remaining;
        long reissued = 0;
        long passedOver = 0;
        int progressed;
        do {
          JsonNode b =
              node.call(
                  node.request("/ca/v1/cas/" + CaCommand.enc(ca) + "/reissue?limit=" + batch, token)
                      .POST(HttpRequest.BodyPublishers.noBody()));
          batches.add(b);
          for (int i = 0; i < b.path("reissued").size(); i++) {
            progress.step(true);
          }
          for (int i = 0; i < b.path("passedOver").size(); i++) {
            progress.step(true);
          }
          reissued += b.path("reissued").size();
          passedOver += b.path("passedOver").size();
          remaining = b.path("remaining").asLong();
          progressed = b.path("reissued").size() + b.path("passedOver").size();
        } while (remaining > 0 && progressed > 0);
        if (!node.json) {
          out.printf(
              "re-issued %d certificates; passed over %d (key revoked for its own sake, or a"
                  + " service certificate the hierarchy renews itself)%n",
              reissued, passedOver);
        }
      }
      if (node.json) {
        var all = Node.JSON.createObjectNode();
        all.set("procedure", r);
        all.set("reissue", Node.JSON.valueToTree(batches));
        out.println(Node.pretty(all));
      }
      return 0;
    }

    private void describe(java.io.PrintWriter out, JsonNode p, String would) {
      String ca = p.path("ca").asString();
      String parent = p.path("parent").asString();
      out.printf(
          "CA %s (certificate %s, issued by %s)%n", ca, p.path("caSerial").asString(), parent);
      if (p.path("caCertificateRevoked").asBoolean()) {
        out.printf(
            "  its certificate is revoked already (a re-run); %spublish %s's CRLs again%n",
            would, parent);
      } else {
        out.printf(
            "  %srevoke its certificate at %s (cACompromise) and publish %s's CRLs%n",
            would, parent, parent);
      }
      out.printf(
          "  %srevoke %d certificates it issued (cACompromise) and publish its CRLs, partitions %s%n",
          would, p.path("toRevoke").asLong(), p.path("partitions").toString());
      if (!p.path("toCreate").isEmpty()) {
        out.println("  " + would + "create: " + join(p.path("toCreate")));
      }
      if (!p.path("profilesNamingCa").isEmpty()) {
        out.println(
            "  WARNING: profiles still naming "
                + ca
                + " (refused from now on; their certificates are not re-issued until the"
                + " hierarchy file points them at a replacement): "
                + join(p.path("profilesNamingCa")));
      }
    }

    private static String join(JsonNode array) {
      List<String> s = new ArrayList<>();
      array.forEach(n -> s.add(n.asString()));
      return String.join(", ", s);
    }
  }
}
