package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Kubernetes manifests cannot run here, so both renders ({@code kubectl kustomize} of {@code
 * ops/deploy/kubernetes/base} and {@code overlays/production}, Debian's kubectl) are checked for
 * the invariants a reviewer would hold them to: pinned images, probes and resources on every
 * container, the restricted security context, no secret value inline, a Service, disruption budget
 * and autoscaler for every node group, a default-deny network policy, PostgreSQL as a synchronous
 * CloudNativePG cluster (and the disaster-recovery replica cluster in production), and every
 * module's paths routed by the Ingress to a group that runs that module on the port its container
 * names. Each check is also run on a render broken on purpose, and must object.
 */
class KubernetesManifestsTest {
  private static final Path DEPLOY = Path.of("deploy", "kubernetes");

  /** Paths each module serves (one or more per route it needs), and where the node listens. */
  private static final Map<String, List<String>> MODULE_PATHS =
      Map.of(
          "ca",
          List.of(
              "/ca/v1/certificates",
              "/ca/ocsp",
              "/ca/crl/citizen/0.crl",
              "/acme/directory",
              "/acme/new-order"),
          "audit",
          List.of("/audit/checkpoint", "/audit/tile/0/000", "/audit/v1/proof/consistency"),
          "sign",
          List.of("/sign/v1/seals", "/sign/v1/validate", "/tsa", "/csc/v2/info"),
          "sso",
          List.of(
              "/.well-known/openid-configuration",
              "/.well-known/oauth-authorization-server",
              "/oauth2/authorize",
              "/oauth2/token",
              "/oauth2/jwks",
              "/userinfo",
              "/connect/register",
              "/connect/logout",
              "/login",
              "/login/otp",
              "/logout",
              "/activate",
              "/account/totp",
              "/webauthn/register",
              "/cas/login",
              "/cas/p3/serviceValidate",
              "/sso/v1/clients"));

  private static final Pattern PINNED_IMAGE =
      Pattern.compile(
          "^[a-z0-9./_-]+(:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*)(@sha256:[0-9a-f]{64})?$");
  private static final Pattern SECRET_NAME =
      Pattern.compile("(?i).*(PASSWORD|SECRET|TOKEN|PIN|CREDENTIAL).*");
  private static final Pattern SECRET_LOOKING_VALUE =
      Pattern.compile("[A-Za-z0-9+/_=-]{32,}|://[^/@\\s]*:[^$/@\\s][^/@\\s]*@");

  static List<Map<String, Object>> render(String folder) throws Exception {
    Process p =
        new ProcessBuilder("kubectl", "kustomize", DEPLOY.resolve(folder).toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize %s: %s", folder, out).isZero();
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object d : new Yaml().loadAll(out)) {
      if (d != null) {
        docs.add(map(d));
      }
    }
    return docs;
  }

  @Test
  void theBaseAndTheProductionOverlayHoldEveryInvariant() throws Exception {
    List<Map<String, Object>> base = render("base");
    List<Map<String, Object>> production = render("overlays/production");
    assertThat(violations(base, false)).isEmpty();
    assertThat(violations(production, true)).isEmpty();
    assertThat(kinds(production, "Namespace")).hasSize(1);
    assertThat(kinds(production, "Deployment"))
        .allSatisfy(d -> assertThat(str(d, "metadata", "namespace")).isEqualTo("yinxin"));
  }

  @Test
  void eachCheckObjectsToARenderBrokenOnPurpose() throws Exception {
    assertThat(broken(d -> container(d, "yinxin-sso").remove("readinessProbe")))
        .anyMatch(v -> v.contains("yinxin-sso/yinxin has no readinessProbe"));
    assertThat(broken(d -> container(d, "yinxin-sign").put("image", "yinxin:latest")))
        .anyMatch(v -> v.contains("yinxin-sign/yinxin image yinxin:latest is not pinned"));
    assertThat(broken(d -> container(d, "yinxin-sign").remove("resources")))
        .anyMatch(v -> v.contains("yinxin-sign/yinxin has no resources"));
    assertThat(
            broken(
                d ->
                    envList(container(d, "yinxin-ca-audit"))
                        .add(
                            new LinkedHashMap<>(
                                Map.of("name", "YINXIN_DB_PASSWORD", "value", "hunter2")))))
        .anyMatch(v -> v.contains("YINXIN_DB_PASSWORD is inline"));
    assertThat(
            broken(
                d ->
                    envList(container(d, "yinxin-sso"))
                        .add(
                            new LinkedHashMap<>(
                                Map.of(
                                    "name",
                                    "YINXIN_SSO_SESSIONS_REDIS_URL",
                                    "value",
                                    "redis://:s3cret@yinxin-redis:6379")))))
        .anyMatch(v -> v.contains("YINXIN_SSO_SESSIONS_REDIS_URL holds what looks like a secret"));
    assertThat(
            broken(
                d -> {
                  Map<String, Object> secret = new LinkedHashMap<>();
                  secret.put("kind", "Secret");
                  secret.put("metadata", new LinkedHashMap<>(Map.of("name", "x")));
                  secret.put("data", Map.of("k", "dg=="));
                  d.add(secret);
                }))
        .anyMatch(v -> v.contains("a Secret with its values"));
    assertThat(
            broken(
                d ->
                    kinds(d, "Ingress")
                        .get(0)
                        .put("spec", Map.of("ingressClassName", "nginx", "rules", List.of()))))
        .anyMatch(v -> v.contains("/tsa (sign) is not routed"));
    assertThat(
            broken(
                d ->
                    envList(container(d, "yinxin-sign"))
                        .forEach(
                            e -> {
                              if ("YINXIN_MODULES".equals(e.get("name"))) {
                                e.put("value", "sso");
                              }
                            })))
        .anyMatch(v -> v.contains("/tsa (sign) goes to yinxin-sign, whose pods run [sso]"));
    assertThat(broken(d -> d.removeIf(r -> "PodDisruptionBudget".equals(r.get("kind")))))
        .anyMatch(v -> v.contains("no PodDisruptionBudget for yinxin-ca-audit"));
    assertThat(
            broken(
                d ->
                    map(map(deployment(d, "yinxin-sso").get("spec")).get("template"))
                        .put("spec", withoutNonRoot(d))))
        .anyMatch(v -> v.contains("yinxin-sso does not run as non-root"));
  }

  private static Map<String, Object> withoutNonRoot(List<Map<String, Object>> d) {
    Map<String, Object> pod =
        new LinkedHashMap<>(
            map(map(map(deployment(d, "yinxin-sso").get("spec")).get("template")).get("spec")));
    pod.remove("securityContext");
    return pod;
  }

  private interface Breakage {
    void apply(List<Map<String, Object>> docs);
  }

  private static List<String> broken(Breakage b) throws Exception {
    List<Map<String, Object>> docs = render("base");
    b.apply(docs);
    List<String> v = violations(docs, false);
    assertThat(v).as("the broken render must be refused").isNotEmpty();
    return v;
  }

  @Test
  void theImageIsPinnedAndRunsAsANonRootUser() throws Exception {
    List<String> lines = Files.readAllLines(DEPLOY.resolve("Dockerfile"));
    List<String> from = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertThat(from).isNotEmpty();
    for (String f : from) {
      assertThat(f.substring(5).strip()).matches(PINNED_IMAGE).doesNotContain(":latest");
    }
    String user =
        lines.stream()
            .filter(l -> l.startsWith("USER "))
            .reduce((a, b) -> b)
            .orElseThrow()
            .substring(5)
            .strip();
    assertThat(user).matches("[1-9][0-9]*(:[1-9][0-9]*)?");
  }

  // --- the checks -------------------------------------------------------------------------

  static List<String> violations(List<Map<String, Object>> docs, boolean production) {
    List<String> v = new ArrayList<>();
    for (Map<String, Object> r : docs) {
      String kind = str(r, "kind");
      String name = str(r, "metadata", "name");
      if ("Secret".equals(kind) && (r.containsKey("data") || r.containsKey("stringData"))) {
        v.add("a Secret with its values in the manifests: " + name);
      }
      if ("ConfigMap".equals(kind)) {
        map(r.getOrDefault("data", Map.of()))
            .forEach((k, val) -> checkValue(v, "ConfigMap " + name, k, String.valueOf(val)));
      }
      if ("Cluster".equals(kind)) {
        checkImage(v, "Cluster " + name, str(r, "spec", "imageName"));
        if (map(map(r.get("spec")).get("resources")).isEmpty()) {
          v.add("Cluster " + name + " has no resources");
        }
      }
      Optional<Map<String, Object>> pod = podSpec(r);
      if (pod.isEmpty()) {
        continue;
      }
      boolean longRunning = !"Job".equals(kind) && !"CronJob".equals(kind);
      if (!Boolean.TRUE.equals(map(pod.get().get("securityContext")).get("runAsNonRoot"))) {
        v.add(name + " does not run as non-root");
      }
      for (Map<String, Object> c : containers(pod.get())) {
        String where = name + "/" + c.get("name");
        checkImage(v, where, String.valueOf(c.get("image")));
        if (longRunning) {
          for (String probe : List.of("livenessProbe", "readinessProbe")) {
            if (!c.containsKey(probe)) {
              v.add(where + " has no " + probe);
            }
          }
        }
        Map<String, Object> res = map(c.get("resources"));
        if (map(res.get("requests")).get("cpu") == null
            || map(res.get("requests")).get("memory") == null
            || map(res.get("limits")).get("memory") == null) {
          v.add(where + " has no resources (cpu and memory requests, a memory limit)");
        }
        Map<String, Object> sc = map(c.get("securityContext"));
        if (!Boolean.FALSE.equals(sc.get("allowPrivilegeEscalation"))
            || !Boolean.TRUE.equals(sc.get("readOnlyRootFilesystem"))
            || !list(map(sc.get("capabilities")).get("drop")).contains("ALL")) {
          v.add(where + " lacks the restricted security context");
        }
        for (Map<String, Object> e : envList(c)) {
          if (e.containsKey("value")) {
            checkValue(v, where, String.valueOf(e.get("name")), String.valueOf(e.get("value")));
          }
        }
      }
    }
    checkGroups(v, docs);
    checkRoutes(v, docs);
    if (kinds(docs, "NetworkPolicy").stream()
        .noneMatch(n -> map(map(n.get("spec")).get("podSelector")).isEmpty())) {
      v.add("no default-deny NetworkPolicy");
    }
    checkDatabase(v, docs, production);
    return v;
  }

  private static void checkImage(List<String> v, String where, String image) {
    if (image == null || !PINNED_IMAGE.matcher(image).matches() || image.contains(":latest")) {
      v.add(where + " image " + image + " is not pinned");
    }
  }

  private static void checkValue(List<String> v, String where, String name, String value) {
    // A file path, a URL (checked by its value below), an issuer's URL, the PKCS#11 token's label.
    boolean notASecret =
        name.endsWith("_FILE")
            || name.contains("URL")
            || name.endsWith("_ISSUER")
            || name.equals("YINXIN_KEYS_PKCS11_TOKEN");
    boolean path = value.startsWith("/") && !value.contains(" ");
    if (SECRET_NAME.matcher(name).matches() && !notASecret) {
      v.add(where + ": " + name + " is inline (use a secretKeyRef or a file)");
    } else if (!path && SECRET_LOOKING_VALUE.matcher(value).find()) {
      v.add(where + ": " + name + " holds what looks like a secret");
    }
  }

  /** Every node group: a Service selecting it, a PodDisruptionBudget, an autoscaler. */
  private static void checkGroups(List<String> v, List<Map<String, Object>> docs) {
    for (Map<String, Object> d : kinds(docs, "Deployment")) {
      String name = str(d, "metadata", "name");
      Map<String, Object> labels = podLabels(d);
      if (kinds(docs, "PodDisruptionBudget").stream()
          .noneMatch(p -> selects(map(map(p.get("spec")).get("selector")), labels))) {
        v.add("no PodDisruptionBudget for " + name);
      }
      if (!"node".equals(map(map(d.get("metadata")).get("labels")).get("yinxin.io/role"))) {
        continue;
      }
      if (kinds(docs, "Service").stream()
          .noneMatch(s -> selectsLabels(map(map(s.get("spec")).get("selector")), labels))) {
        v.add("no Service for " + name);
      }
      if (kinds(docs, "HorizontalPodAutoscaler").stream()
          .noneMatch(h -> name.equals(str(h, "spec", "scaleTargetRef", "name")))) {
        v.add("no HorizontalPodAutoscaler for " + name);
      }
    }
  }

  /** Each module path reaches, through the Ingress and a Service, pods that run that module. */
  private static void checkRoutes(List<String> v, List<Map<String, Object>> docs) {
    List<Map<String, Object>> paths = new ArrayList<>();
    for (Map<String, Object> ing : kinds(docs, "Ingress")) {
      for (Object rule : list(map(ing.get("spec")).get("rules"))) {
        for (Object p : list(map(map(rule).get("http")).get("paths"))) {
          paths.add(map(p));
        }
      }
    }
    MODULE_PATHS.forEach(
        (module, samples) -> {
          for (String sample : samples) {
            Optional<Map<String, Object>> route = route(paths, sample);
            if (route.isEmpty()) {
              v.add(sample + " (" + module + ") is not routed");
              continue;
            }
            String service = str(route.get(), "backend", "service", "name");
            Object port =
                map(map(map(route.get().get("backend")).get("service")).get("port")).get("name");
            Optional<Map<String, Object>> svc =
                kinds(docs, "Service").stream()
                    .filter(s -> service.equals(str(s, "metadata", "name")))
                    .findFirst();
            if (svc.isEmpty()) {
              v.add(sample + " goes to " + service + ", which does not exist");
              continue;
            }
            Map<String, Object> selector = map(map(svc.get().get("spec")).get("selector"));
            List<Map<String, Object>> targets =
                kinds(docs, "Deployment").stream()
                    .filter(d -> selectsLabels(selector, podLabels(d)))
                    .toList();
            if (targets.isEmpty()) {
              v.add(sample + " goes to " + service + ", which selects no pods");
            }
            for (Map<String, Object> d : targets) {
              Map<String, Object> c = containers(podSpec(d).orElseThrow()).get(0);
              List<String> modules = modules(c);
              if (!modules.contains(module)) {
                v.add(
                    sample
                        + " ("
                        + module
                        + ") goes to "
                        + service
                        + ", whose pods run "
                        + modules);
              }
              Object target =
                  list(map(svc.get().get("spec")).get("ports")).stream()
                      .map(KubernetesManifestsTest::map)
                      .filter(p -> port == null || port.equals(p.get("name")))
                      .map(p -> p.get("targetPort"))
                      .findFirst()
                      .orElse(null);
              boolean listens =
                  list(c.get("ports")).stream()
                      .map(KubernetesManifestsTest::map)
                      .anyMatch(
                          p ->
                              String.valueOf(target).equals(String.valueOf(p.get("name")))
                                  || String.valueOf(target)
                                      .equals(String.valueOf(p.get("containerPort"))));
              if (!listens) {
                v.add(sample + ": " + service + " targets port " + target + ", not the node's");
              }
            }
          }
        });
    for (String internal : List.of("/actuator/prometheus", "/actuator/health")) {
      if (route(paths, internal).isPresent()) {
        v.add(internal + " is routed to the outside");
      }
    }
  }

  private static void checkDatabase(
      List<String> v, List<Map<String, Object>> docs, boolean production) {
    List<Map<String, Object>> clusters = kinds(docs, "Cluster");
    Optional<Map<String, Object>> main =
        clusters.stream().filter(c -> "yinxin-db".equals(str(c, "metadata", "name"))).findFirst();
    if (main.isEmpty()) {
      v.add("no CloudNativePG Cluster yinxin-db");
      return;
    }
    Map<String, Object> sync =
        map(map(map(main.get().get("spec")).get("postgresql")).get("synchronous"));
    if (!(sync.get("number") instanceof Integer n && n >= 1)
        || !"required".equals(sync.get("dataDurability"))) {
      v.add("yinxin-db does not acknowledge commits synchronously");
    }
    if (map(map(main.get().get("spec")).get("backup")).isEmpty()) {
      v.add("yinxin-db has no backup (WAL archive)");
    }
    if (production
        && clusters.stream()
            .noneMatch(
                c ->
                    Boolean.TRUE.equals(map(map(c.get("spec")).get("replica")).get("enabled"))
                        && "yinxin-db".equals(str(c, "spec", "replica", "source")))) {
      v.add("no disaster-recovery replica cluster of yinxin-db");
    }
  }

  // --- reading the render -----------------------------------------------------------------

  private static Optional<Map<String, Object>> route(List<Map<String, Object>> paths, String p) {
    Map<String, Object> best = null;
    int bestLength = -1;
    for (Map<String, Object> r : paths) {
      String path = String.valueOf(r.get("path"));
      boolean match =
          "Exact".equals(r.get("pathType"))
              ? p.equals(path)
              : p.equals(path) || p.startsWith(path.endsWith("/") ? path : path + "/");
      if (match && path.length() > bestLength) {
        best = r;
        bestLength = path.length();
      }
    }
    return Optional.ofNullable(best);
  }

  private static List<String> modules(Map<String, Object> container) {
    for (Map<String, Object> e : envList(container)) {
      if ("YINXIN_MODULES".equals(e.get("name"))) {
        return List.of(String.valueOf(e.get("value")).split("\\s*,\\s*"));
      }
    }
    return List.of("ca", "audit", "sign", "sso");
  }

  private static boolean selects(Map<String, Object> selector, Map<String, Object> labels) {
    return selectsLabels(map(selector.get("matchLabels")), labels);
  }

  private static boolean selectsLabels(Map<String, Object> wanted, Map<String, Object> labels) {
    return !wanted.isEmpty()
        && wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  private static Map<String, Object> podLabels(Map<String, Object> workload) {
    return map(map(map(map(workload.get("spec")).get("template")).get("metadata")).get("labels"));
  }

  private static Optional<Map<String, Object>> podSpec(Map<String, Object> r) {
    Map<String, Object> template = map(map(r.get("spec")).get("template"));
    return template.containsKey("spec") ? Optional.of(map(template.get("spec"))) : Optional.empty();
  }

  private static List<Map<String, Object>> containers(Map<String, Object> pod) {
    List<Map<String, Object>> all = new ArrayList<>();
    for (String k : List.of("initContainers", "containers")) {
      list(pod.get(k)).forEach(c -> all.add(map(c)));
    }
    return all;
  }

  private static Map<String, Object> deployment(List<Map<String, Object>> docs, String name) {
    return kinds(docs, "Deployment").stream()
        .filter(d -> name.equals(str(d, "metadata", "name")))
        .findFirst()
        .orElseThrow();
  }

  private static Map<String, Object> container(List<Map<String, Object>> docs, String name) {
    return containers(podSpec(deployment(docs, name)).orElseThrow()).get(0);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> envList(Map<String, Object> container) {
    Object env = container.get("env");
    if (env == null) {
      env = new ArrayList<>();
      container.put("env", env);
    }
    return (List<Map<String, Object>>) env;
  }

  private static List<Map<String, Object>> kinds(List<Map<String, Object>> docs, String kind) {
    return docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
  }

  private static String str(Map<String, Object> m, String... path) {
    Object o = m;
    for (String p : path) {
      o = map(o).get(p);
    }
    return o == null ? null : String.valueOf(o);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : new LinkedHashMap<>();
  }

  private static List<Object> list(Object o) {
    return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
  }
}
