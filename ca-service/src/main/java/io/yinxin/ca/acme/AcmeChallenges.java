package io.yinxin.ca.acme;

import io.yinxin.ca.acme.AcmeService.Reply;
import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.acme.AcmeStore.Authz;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authorizations and their http-01 challenges (RFC 8555 §7.5, §8.3). Validations run on a bounded
 * executor, each under its own deadline; a full queue and an account over its failed-validation
 * limit get {@code rateLimited} before anything is queued.
 */
final class AcmeChallenges {
  private static final Logger log = LoggerFactory.getLogger(AcmeChallenges.class);

  private final AcmeStore store;
  private final AcmeViews views;
  private final Http01Validator validator;
  private final ExecutorService validations;
  private final AcmeRateLimits limits;

  AcmeChallenges(
      AcmeStore store,
      AcmeViews views,
      Http01Validator validator,
      ExecutorService validations,
      AcmeRateLimits limits) {
    this.store = store;
    this.views = views;
    this.validator = validator;
    this.validations = validations;
    this.limits = limits;
  }

  Reply authz(Account acct, String id) {
    return AcmeViews.json(200, Optional.empty(), List.of(), views.view(own(acct, id)));
  }

  /** POST-as-GET shows the challenge; any other POST asks the CA to validate it (once). */
  Reply respond(Account acct, String id, AcmeJws jws) {
    Authz found = own(acct, id);
    Authz a = found;
    if (!jws.isPostAsGet() && found.challengeStatus().equals("pending")) {
      limits.mayValidate(acct.id());
      if (validations instanceof ThreadPoolExecutor pool
          && pool.getQueue().remainingCapacity() == 0) {
        throw new AcmeProblem(
            "rateLimited", 503, "too many validations are waiting; retry this challenge later", 5);
      }
    }
    if (!jws.isPostAsGet() && store.startChallenge(found.id())) {
      String keyAuth = found.token() + "." + AcmeJws.thumbprint(AcmeAccounts.jwk(acct));
      submit(
          found.id(),
          () -> {
            Optional<String> err = validator.validate(found.identifier(), found.token(), keyAuth);
            store.finishChallenge(found.id(), err.isEmpty(), err.orElse(null));
            if (err.isPresent()) {
              limits.validationFailed(acct.id());
            }
            log.info(
                "event=acme_challenge_{} authz={} account={}",
                err.isEmpty() ? "valid" : "invalid",
                found.id(),
                acct.id());
          });
      a = store.authz(found.id()).orElseThrow();
    }
    return AcmeViews.json(
        200,
        Optional.empty(),
        List.of("<" + views.authzUrl(a.id()) + ">;rel=\"up\""),
        views.challengeView(a));
  }

  /** Queues a validation; if the queue filled up meanwhile, the challenge fails and says why. */
  private void submit(String authzId, Runnable validation) {
    try {
      validations.execute(validation);
    } catch (RejectedExecutionException e) {
      store.finishChallenge(authzId, false, "the CA was too busy to validate; try a new order");
    }
  }

  private Authz own(Account acct, String id) {
    Authz a = store.authz(id).orElseThrow(() -> AcmeProblem.notFound("no such authorization"));
    if (!a.accountId().equals(acct.id())) {
      throw AcmeProblem.unauthorized("this authorization belongs to another account");
    }
    return a;
  }
}
