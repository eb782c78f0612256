package io.yinxin.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FreePorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code yinxin} command line as an operator runs it: each call a separate {@code java} process
 * (the executable's main class on this build's class path) against a running node; the test reads
 * what it prints and its exit status. Tokens come from the node's dev.json or the environment,
 * never from the command line.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class CliTest {
  private static final Path DIR = tempDir();
  private static final int PORT = FreePorts.next();
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-cli-");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void node(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", () -> DIR.resolve("data").toString());
    r.add("server.port", () -> Integer.toString(PORT));
  }

  record Run(int exit, String out, String err) {}

  private static Run yinxin(Map<String, String> env, String... args) throws Exception {
    return withInput(env, null, args);
  }

  /** The command, with {@code stdin} (when given) as its standard input. */
  private static synchronized Run withInput(Map<String, String> env, String stdin, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // A command here runs a second or two: the JIT's first tier alone starts it about 0.5 s sooner
    // (1.9 s against 1.4 s for a help text on two cores), over about a hundred commands.
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.yinxin.ops.YinxinApplication");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(DIR.toFile());
    pb.environment().remove("YINXIN_URL");
    pb.environment().putAll(env);
    pb.redirectOutput(DIR.resolve("out.txt").toFile());
    pb.redirectError(DIR.resolve("err.txt").toFile());
    Path in = DIR.resolve("in.txt");
    Files.writeString(in, stdin == null ? "" : stdin, StandardCharsets.UTF_8);
    pb.redirectInput(in.toFile());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("yinxin " + String.join(" ", args) + " did not finish");
    }
    return new Run(
        p.exitValue(),
        Files.readString(DIR.resolve("out.txt")),
        Files.readString(DIR.resolve("err.txt")));
  }

  private static String ssoAdminToken() throws Exception {
    return JSON.readTree(Files.readString(DIR.resolve("data/dev.json")))
        .path("ssoAdminToken")
        .asString();
  }

  private static Run yinxin(String... args) throws Exception {
    return yinxin(Map.of("YINXIN_URL", "http://127.0.0.1:" + PORT), args);
  }

  /**
   * {@code --help} lists the commands, and every command with something to do (each leaf of the
   * command tree, found by walking it rather than from a list here, so that a new command without
   * an example fails) shows an example of its use. The top-level help, one command's help and the
   * completion script are asked of a process, as an operator would; the other commands' help
   * in-process from the same command line, as a process launch per command took 55 s here.
   */
  @Test
  void helpListsEveryCommandAndEveryCommandHasAnExample() throws Exception {
    Run help = yinxin("--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out())
        .contains("ca", "audit", "monitor", "keys", "seal", "client", "generate-completion")
        .contains("Exit codes:");
    Run one = yinxin("user", "sign-out", "--help");
    assertThat(one.exit()).isZero();
    assertThat(one.out()).contains("Example: yinxin user sign-out");

    List<List<String>> leaves = new ArrayList<>();
    leaves(YinxinCli.commandLine(), List.of(), leaves);
    assertThat(leaves)
        .as("the command tree")
        .contains(
            List.of("ca", "issue"),
            List.of("audit", "check"),
            List.of("seal", "sign"),
            List.of("client", "register"),
            List.of("keys", "csr"),
            List.of("emergency", "checkpoint-key-compromise"),
            List.of("user", "remove-second-factors"))
        .hasSizeGreaterThanOrEqualTo(30);
    for (List<String> c : leaves) {
      picocli.CommandLine cl = YinxinCli.commandLine();
      java.io.StringWriter out = new java.io.StringWriter();
      cl.setOut(new java.io.PrintWriter(out));
      List<String> args = new ArrayList<>(c);
      args.add("--help");
      assertThat(cl.execute(args.toArray(String[]::new))).as(String.join(" ", c)).isZero();
      assertThat(out.toString())
          .as(String.join(" ", c))
          .contains("Example: yinxin " + String.join(" ", c));
    }
    Run completion = yinxin("generate-completion");
    assertThat(completion.exit()).isZero();
    assertThat(completion.out()).contains("complete -F").contains("yinxin");
  }

  /** The commands under {@code cl} that have no subcommands, as the words that name them. */
  private static void leaves(picocli.CommandLine cl, List<String> path, List<List<String>> leaves) {
    var subs = cl.getSubcommands();
    if (subs.isEmpty() && !path.isEmpty()) {
      leaves.add(path);
      return;
    }
    subs.forEach(
        (name, sub) -> {
          // Picocli's own help and completion commands, and aliases (listed under their name too).
          if (name.equals("help")
              || name.equals("generate-completion")
              || !name.equals(sub.getCommandName())) {
            return;
          }
          List<String> next = new ArrayList<>(path);
          next.add(name);
          leaves(sub, next, leaves);
        });
  }

  @Test
  void sealsAndCertificatesAreListedAPageAtATime() throws Exception {
    JsonNode dev = JSON.readTree(Files.readString(DIR.resolve("data/dev.json")));
    String seal = dev.path("demoSealId").asString();
    Run seals = yinxin("seal", "list", "--grantee", "dev-sealer");
    assertThat(seals.exit()).as(seals.err()).isZero();
    assertThat(seals.out()).startsWith(seal).contains("福州某某科技有限公司").doesNotContain("more:");
    Run one = yinxin("seal", "list", "--limit", "1");
    assertThat(one.out()).contains("more: --after seal-");
    assertThat(yinxin("seal", "list", "--limit", "0").exit()).isEqualTo(1);

    Run first = yinxin("ca", "list", "--limit", "1");
    assertThat(first.exit()).as(first.err()).isZero();
    java.util.regex.Matcher more =
        java.util.regex.Pattern.compile("more: --after ([a-z0-9-]+/[0-9a-f]+)")
            .matcher(first.out());
    assertThat(more.find()).as(first.out()).isTrue();
    Run second = yinxin("ca", "list", "--limit", "1", "--after", more.group(1));
    assertThat(second.exit()).as(second.err()).isZero();
    String firstSerial = more.group(1).substring(more.group(1).indexOf('/') + 1);
    assertThat(first.out()).contains(firstSerial);
    assertThat(second.out()).doesNotContain(firstSerial).contains("more: --after ");
    Run unknown = yinxin("ca", "list", "--after", "citizen/ffff");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("400");
  }

  /**
   * The seal-key-compromise procedure on the demo seal (last: the other tests seal with it): the
   * dry run lists the document sealed here and changes nothing; the run disables the seal, revokes
   * its certificate, publishes the CRL, and writes evidence bundles that verify offline; the seal
   * then refuses to seal.
   */
  @Test
  @org.junit.jupiter.api.Order(Integer.MAX_VALUE)
  void emergencySealCompromiseListsWhatTheSealSignedThenDisablesAndRevokes() throws Exception {
    Path in = DIR.resolve("compromise-in");
    Files.createDirectories(in);
    try (PDDocument doc = new PDDocument()) {
      doc.addPage(new PDPage());
      doc.save(in.resolve("a.pdf").toFile());
    }
    String since = java.time.Instant.now().minusSeconds(5).toString();
    Run sealed =
        yinxin("seal", "sign", "--out", "compromise-out", "--level", "B-B", "compromise-in");
    assertThat(sealed.exit()).as(sealed.err()).isZero();
    JsonNode dev = JSON.readTree(Files.readString(DIR.resolve("data/dev.json")));
    String seal = dev.path("demoSealId").asString();
    String after =
        java.util.HexFormat.of()
            .formatHex(
                java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(DIR.resolve("compromise-out/a.pdf"))));

    Run dry = yinxin("emergency", "seal-compromise", seal, "--since", since);
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out())
        .startsWith("DRY RUN: nothing was changed")
        .contains("is active; would disable it")
        .contains("would revoke certificate enterprise/")
        .contains("1 uses since")
        .contains("document " + after);
    assertThat(yinxin("emergency", "seal-compromise", seal, "--since", "yesterday").exit())
        .isEqualTo(2);

    Run run =
        yinxin("emergency", "seal-compromise", seal, "--since", since, "--yes", "--out-dir", "inc");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains(": disabled").contains("document " + after);
    Run cert =
        yinxin(
            "ca",
            "list",
            "--issuer",
            "enterprise",
            "--profile",
            "enterprise-seal",
            "--status",
            "revoked");
    assertThat(cert.out()).contains("revoked");
    Run verify =
        yinxin("audit", "verify", "inc/document-sealed.json", "--key", activeCheckpointKey());
    assertThat(verify.exit()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out()).contains("VALID");
    Run refused = yinxin("seal", "sign", "--out", "compromise-out2", "compromise-in");
    assertThat(refused.exit()).isEqualTo(1);
  }

  /**
   * Accounts: one created with a real name; a CSV import (quoted field with a comma, a BOM) with
   * plain progress lines, where a wrong ID number, a taken username and a short row are refused and
   * reported by row while the others are created, their one-time passwords in an owner-only file;
   * the refused real name left no account behind.
   */
  @Test
  void createsAndImportsUsers() throws Exception {
    // The ID number and the phone number are read from standard input, one line each: on the
    // command line the process list and the shell history would keep them.
    Map<String, String> url = Map.of("YINXIN_URL", "http://127.0.0.1:" + PORT);
    Run onArgv =
        withInput(
            url,
            "11010519491231002X\n",
            "user",
            "create",
            "Li.Si",
            "--name",
            "李四",
            "--phone",
            "--id-number",
            "11010519491231002X");
    assertThat(onArgv.exit()).isEqualTo(2);
    assertThat(onArgv.err())
        .contains("--id-number takes no value on the command line")
        .doesNotContain("11010519491231002X");
    Run one =
        withInput(
            url,
            "11010519491231002X\n13800138000\n",
            "user",
            "create",
            "Li.Si",
            "--display-name",
            "李四",
            "--name",
            "李四",
            "--id-number",
            "--phone");
    assertThat(one.exit()).as(one.err()).isZero();
    assertThat(one.out()).startsWith("li.si created; one-time password: ");
    // The node has them (masked in every answer): the argv attempt above created nothing.
    Run shown =
        withInput(url, null, "user", "create", "li.si2", "--json", "--name", "李四", "--id-number");
    assertThat(shown.exit()).as("standard input empty").isEqualTo(2);
    assertThat(shown.err()).contains("Resident ID number: nothing given");
    java.net.http.HttpResponse<String> realName =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + PORT + "/sso/v1/accounts/li.si/realname"))
                    .header("Authorization", "Bearer " + ssoAdminToken())
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(realName.body()).contains("\"id_number_masked\"", "002X\"", "\"phone_masked\"");
    Files.writeString(
        DIR.resolve("people.csv"),
        "\uFEFFusername,display_name,name,id_number\r\n"
            + "wang.wu,\"王五, 规划局\",王五,\r\n"
            + "zhao.liu,赵六,赵六,110105194912310021\r\n"
            + "li.si,李四,,\r\n"
            + "sun.qi,孙七\r\n"
            + "zhou.ba,周八,周八,\r\n",
        StandardCharsets.UTF_8);
    Run imported =
        yinxin(
            Map.of("YINXIN_URL", "http://127.0.0.1:" + PORT, "YINXIN_PLAIN_PROGRESS", "1"),
            "user",
            "import",
            "people.csv",
            "--out",
            "passwords.csv");
    assertThat(imported.exit()).as(imported.out() + imported.err()).isEqualTo(1);
    assertThat(imported.out())
        .contains("accounts 5/5")
        .contains("created 2 accounts, refused 3; one-time passwords in passwords.csv");
    assertThat(imported.err())
        .contains("row 3: ")
        .contains("row 4: the node answered 409")
        .contains("row 5: 2 fields where the header has 4");
    List<String> passwords = Files.readAllLines(DIR.resolve("passwords.csv"));
    assertThat(passwords).hasSize(3);
    assertThat(passwords.get(1)).startsWith("wang.wu,");
    assertThat(passwords.get(2)).startsWith("zhou.ba,");
    assertThat(Files.getPosixFilePermissions(DIR.resolve("passwords.csv")))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    // The refused row left no account: creating it now succeeds.
    Run again = yinxin("user", "create", "zhao.liu");
    assertThat(again.exit()).as(again.err()).isZero();

    // An operator's other errands with an account.
    assertThat(yinxin("user", "show", "zhao.liu").out())
        .contains("zhao.liu enabled, password to be replaced, TOTP off, passkeys 0");
    Run reset = yinxin("user", "reset-password", "Zhao.Liu");
    assertThat(reset.exit()).as(reset.err()).isZero();
    assertThat(reset.out()).matches("(?s)zhao\\.liu: one-time password: [A-Za-z0-9_-]{20}\\s*");
    assertThat(yinxin("user", "disable", "zhao.liu").out()).contains("zhao.liu disabled");
    assertThat(yinxin("user", "disable", "zhao.liu").out()).contains("was disabled already");
    assertThat(yinxin("user", "show", "zhao.liu").out()).contains("zhao.liu DISABLED");
    assertThat(yinxin("user", "enable", "zhao.liu").out()).contains("zhao.liu enabled");
    assertThat(yinxin("user", "remove-second-factors", "zhao.liu").out())
        .contains("removed 0 TOTP app(s), 0 recovery code(s), 0 passkey(s)");
    assertThat(yinxin("user", "unblock", "zhao.liu").out())
        .contains("zhao.liu: no sign-in blocks, nothing changed");
    assertThat(yinxin("user", "sign-out", "zhao.liu").out())
        .contains("zhao.liu signed out of every session");
    // Listed by prefix, a page at a time.
    Run page = yinxin("user", "list", "--prefix", "zhao", "--limit", "1");
    assertThat(page.exit()).as(page.err()).isZero();
    assertThat(page.out()).startsWith("zhao.liu").contains("more: --after zhao.liu");
    Run bad = yinxin("user", "list", "--limit", "1000");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("400");
    Run unknown = yinxin("user", "show", "nobody.here");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("404");
  }

  /**
   * A key for a new seal: generated in the node's backend, listed, made to sign a CSR that openssl
   * verifies and the CA accepts for an enterprise seal certificate; a duplicate label and an
   * unknown type are refused.
   */
  @Test
  void generatesAKeyAndACsrForANewSeal() throws Exception {
    // Without a token, a 1 MB body is refused before it is read; with one, past 4 KiB.
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    byte[] big = new byte[1_000_000];
    java.util.Arrays.fill(big, (byte) 'a');
    java.net.URI keysUri = java.net.URI.create("http://127.0.0.1:" + PORT + "/sign/v1/keys");
    assertThat(
            http.send(
                    java.net.http.HttpRequest.newBuilder(keysUri)
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(big))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding())
                .statusCode())
        .isEqualTo(401);
    String sealToken =
        JSON.readTree(Files.readString(DIR.resolve("data/dev.json"))).path("sealToken").asString();
    assertThat(
            http.send(
                    java.net.http.HttpRequest.newBuilder(keysUri)
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + sealToken)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(big))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding())
                .statusCode())
        .isEqualTo(413);
    Run gen = yinxin("keys", "generate", "--backend", "soft", "--label", "seal-cli-test");
    assertThat(gen.exit()).as(gen.err()).isZero();
    assertThat(gen.out().trim()).isEqualTo("soft:seal-cli-test");
    assertThat(yinxin("keys", "list").out()).contains("soft:seal-cli-test").contains("EC_P256");
    assertThat(yinxin("keys", "generate", "--backend", "soft", "--label", "seal-cli-test").exit())
        .isEqualTo(1);
    assertThat(
            yinxin("keys", "generate", "--backend", "soft", "--type", "ED25519", "--label", "x")
                .exit())
        .isEqualTo(1);
    Run csr =
        yinxin(
            "keys",
            "csr",
            "soft:seal-cli-test",
            "--subject",
            "C=CN,O=福州某某商贸有限公司,CN=福州某某商贸有限公司",
            "--out",
            "seal.csr");
    assertThat(csr.exit()).as(csr.err()).isZero();
    Process verify =
        new ProcessBuilder("openssl", "req", "-in", "seal.csr", "-noout", "-verify")
            .directory(DIR.toFile())
            .redirectErrorStream(true)
            .start();
    String verified = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(verify.waitFor()).as(verified).isZero();
    assertThat(verified).containsIgnoringCase("verify OK");
    Run issued =
        yinxin(
            "ca",
            "issue",
            "--profile",
            "enterprise-seal",
            "--csr",
            "seal.csr",
            "--subject",
            "organization=福州某某商贸有限公司",
            "--subject",
            "creditCode=91350100M000100Y43",
            "--out",
            "seal.pem");
    assertThat(issued.exit()).as(issued.err()).isZero();
  }

  /** The log's active checkpoint key, from its public list (a test may have rotated it). */
  private static String activeCheckpointKey() throws Exception {
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + PORT + "/audit/v1/keys"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    for (JsonNode k : JSON.readTree(r.body()).path("keys")) {
      if (k.path("status").asString().equals("active")) {
        return k.path("verifierKey").asString();
      }
    }
    throw new AssertionError("no active checkpoint key: " + r.body());
  }

  /**
   * The checkpoint key compromised: the dry run changes nothing; the rotation retires the key the
   * node started with; a fresh evidence bundle verifies offline with the new key only; the old key
   * is listed as retired, distrusted from the given time.
   */
  @Test
  @org.junit.jupiter.api.Order(Integer.MAX_VALUE - 1)
  void emergencyCheckpointKeyCompromiseRotatesTheLogsKey() throws Exception {
    JsonNode dev = JSON.readTree(Files.readString(DIR.resolve("data/dev.json")));
    String old = dev.path("auditVerifierKey").asString();
    String since = java.time.Instant.now().minusSeconds(600).toString();
    Run dry = yinxin("emergency", "checkpoint-key-compromise", "--since", since);
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out()).startsWith("DRY RUN").contains("would retire checkpoint key " + old);
    assertThat(activeCheckpointKey()).isEqualTo(old);

    Run run = yinxin("emergency", "checkpoint-key-compromise", "--since", since, "--yes");
    assertThat(run.exit()).as(run.err()).isZero();
    String fresh = activeCheckpointKey();
    assertThat(fresh).isNotEqualTo(old);
    assertThat(run.out()).contains("retired " + old).contains("new checkpoint key: " + fresh);

    Run bundle = yinxin("audit", "bundle", "--type", "CONFIG_CHANGED", "--out", "rotation.json");
    assertThat(bundle.exit()).as(bundle.err()).isZero();
    Run withNew = yinxin("audit", "verify", "rotation.json", "--key", fresh);
    assertThat(withNew.exit()).as(withNew.out() + withNew.err()).isZero();
    assertThat(withNew.out()).contains("VALID");
    assertThat(yinxin("audit", "verify", "rotation.json", "--key", old).exit()).isNotZero();
    Run check = yinxin("audit", "check");
    assertThat(check.exit()).as(check.err()).isZero();
    // progress on standard error (plain lines, not a terminal); the result alone on standard out
    assertThat(check.err()).contains("entries checked");
    assertThat(check.out()).startsWith("consistent: size ");
  }

  /**
   * The CA-compromise procedure on the SM2 citizen CA (nothing else here uses it): the dry run
   * changes nothing; the run revokes the CA at its root, everything it issued, publishes the CRLs;
   * from then on its profile is refused.
   */
  @Test
  void emergencyCaCompromiseDryRunThenRun() throws Exception {
    String before = yinxin("ca", "list", "--issuer", "sm2-citizen", "--json").out();
    Run dry = yinxin("emergency", "ca-compromise", "sm2-citizen");
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out())
        .startsWith("DRY RUN: nothing was changed")
        .contains("would revoke its certificate at sm2-root (cACompromise)")
        .contains("would revoke 1 certificates it issued")
        .contains("WARNING: profiles still naming sm2-citizen")
        .contains("citizen-sign-sm2");
    assertThat(yinxin("ca", "list", "--issuer", "sm2-citizen", "--json").out()).isEqualTo(before);
    assertThat(yinxin("emergency", "ca-compromise", "sm2-citizen", "--yes", "--dry-run").exit())
        .isEqualTo(2);

    Run run = yinxin("emergency", "ca-compromise", "sm2-citizen", "--yes", "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode r = JSON.readTree(run.out()).path("procedure");
    assertThat(r.path("revoked").asInt()).isEqualTo(1); // its OCSP signer
    assertThat(r.path("crlsPublished").toString()).contains("sm2-root/0", "sm2-citizen/0");
    assertThat(yinxin("ca", "list", "--issuer", "sm2-citizen", "--status", "valid").out())
        .isBlank();
    assertThat(yinxin("ca", "list", "--issuer", "sm2-root", "--status", "revoked").out())
        .contains("sm2-root");

    Run again = yinxin("emergency", "ca-compromise", "sm2-citizen");
    assertThat(again.out()).contains("its certificate is revoked already");
  }

  /**
   * The TSA's key compromised: the dry run names the certificate it would revoke; the run writes
   * the new TSA certificate, and the old one is listed as revoked.
   */
  @Test
  void emergencyServiceCompromiseReplacesTheTsaCertificate() throws Exception {
    String since = java.time.Instant.now().minusSeconds(3600).toString();
    Run dry = yinxin("emergency", "service-compromise", "tsa", "--since", since);
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out()).startsWith("DRY RUN").contains("tsa: would make a new key");
    String old = dry.out().replaceAll("(?s).*revoke certificate ([0-9a-f]+) .*", "$1").trim();
    Run run =
        yinxin(
            "emergency",
            "service-compromise",
            "tsa",
            "--since",
            since,
            "--yes",
            "--out",
            "tsa.pem");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("old certificate " + old + " revoked (keyCompromise)");
    assertThat(Files.readString(DIR.resolve("tsa.pem"))).startsWith("-----BEGIN CERTIFICATE");
    assertThat(yinxin("ca", "list", "--issuer", "enterprise", "--status", "revoked").out())
        .contains(old);
  }

  @Test
  void issueListRevokeAndCheckTheLogThroughTheNodesApis() throws Exception {
    Files.createDirectories(DIR.resolve("w"));
    io.yinxin.hsm.testing.OpenSsl.Result gen =
        io.yinxin.hsm.testing.OpenSsl.p256Csr(DIR, "w/k.pem", "/CN=x", "w/req.csr");
    assertThat(gen.exitCode()).as(gen.output()).isZero();
    Run issued =
        yinxin(
            "ca",
            "issue",
            "--profile",
            "citizen-sign",
            "--csr",
            "w/req.csr",
            "--subject",
            "name=张三",
            "--subject",
            "idNumber=11010519491231002X",
            "--out",
            "w/cert.pem",
            "--json");
    assertThat(issued.exit()).as(issued.err()).isZero();
    JsonNode cert = JSON.readTree(issued.out());
    String serial = cert.path("serial").asString();
    assertThat(Files.readString(DIR.resolve("w/cert.pem"))).startsWith("-----BEGIN CERTIFICATE");

    Run list = yinxin("ca", "list", "--profile", "citizen-sign");
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains(serial).contains("valid");

    Run revoked = yinxin("ca", "revoke", "citizen", serial, "--reason", "keyCompromise");
    assertThat(revoked.exit()).as(revoked.err()).isZero();
    assertThat(revoked.out().trim()).isEqualTo("citizen " + serial + " revoked");
    assertThat(yinxin("ca", "list", "--status", "revoked").out()).contains(serial);
    assertThat(yinxin("ca", "crl", "citizen").exit()).isZero();

    Run check = yinxin("audit", "check");
    assertThat(check.exit()).as(check.err()).isZero();
    assertThat(check.out()).startsWith("consistent: size ");

    Run keys = yinxin("keys", "health");
    assertThat(keys.exit()).isZero();
    assertThat(keys.out()).contains("keys UP").contains("soft: UP");
  }

  @Test
  void sealsAFolderWithPlainProgressLinesAndVerifiesTheResults() throws Exception {
    Path in = Files.createDirectories(DIR.resolve("docs"));
    for (int i = 0; i < 3; i++) {
      try (PDDocument d = new PDDocument()) {
        d.addPage(new PDPage());
        d.save(in.resolve("doc" + i + ".pdf").toFile());
      }
    }
    Files.writeString(in.resolve("notes.txt"), "not a PDF: left alone");
    Run sealed = yinxin("seal", "sign", "--level", "B-T", "--out", "sealed", "docs");
    assertThat(sealed.exit()).as(sealed.err()).isZero();
    assertThat(sealed.out()).contains("3 sealed, 0 failed");
    // Not a terminal: plain lines, the last one complete, no carriage returns.
    assertThat(sealed.err()).contains("sealed 3/3").doesNotContain("\r");
    for (int i = 0; i < 3; i++) {
      assertThat(Files.readAllBytes(DIR.resolve("sealed/doc" + i + ".pdf")))
          .startsWith("%PDF".getBytes(StandardCharsets.US_ASCII));
    }
    Run verified = yinxin("seal", "verify", "sealed");
    List<String> lines = verified.out().lines().filter(l -> l.contains("doc")).toList();
    assertThat(lines).hasSize(3);
    boolean allPassed = lines.stream().allMatch(l -> l.endsWith(": TOTAL_PASSED"));
    assertThat(verified.exit()).as(verified.out() + verified.err()).isEqualTo(allPassed ? 0 : 1);
    // The originals are not signed: verify says so and fails.
    Run unsigned = yinxin("seal", "verify", "docs/doc0.pdf");
    assertThat(unsigned.exit()).isEqualTo(1);
    assertThat(unsigned.out()).contains("no signature");
  }

  @Test
  void registersAndListsAClient() throws Exception {
    Run r =
        yinxin(
            "client",
            "register",
            "--name",
            "市场监管局",
            "--redirect-uri",
            "https://portal.example.test/cb",
            "--json");
    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode c = JSON.readTree(r.out());
    assertThat(c.path("client_secret").asString()).isNotBlank();
    Run list = yinxin("client", "list");
    assertThat(list.exit()).isZero();
    assertThat(list.out().lines()).contains(c.path("client_id").asString());
    assertThat(c.path("client_name").asString()).isEqualTo("市场监管局");
  }

  @Test
  void exitCodesSayWhatWentWrong() throws Exception {
    // 3: nobody listens there.
    Run down = yinxin(Map.of("YINXIN_URL", "http://127.0.0.1:9"), "ca", "list");
    assertThat(down.exit()).isEqualTo(3);
    assertThat(down.err()).contains("cannot reach http://127.0.0.1:9");
    // 1: the node refuses a wrong token (and the token is not echoed).
    Run refused =
        yinxin(
            Map.of("YINXIN_URL", "http://127.0.0.1:" + PORT, "YINXIN_CA_TOKEN", "yx_wrong-token"),
            "ca",
            "list");
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.err()).contains("the node answered 401").doesNotContain("yx_wrong-token");
    // 2: bad usage.
    Run usage = yinxin("ca", "revoke", "citizen");
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.err()).contains("Missing required parameter");
  }
}
