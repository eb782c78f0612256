package io.yinxin.ops;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.util.unit.DataSize;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Slow clients cannot take the node's request threads. A servlet endpoint reads its body in a
 * request thread, which waits for every byte: 250 connections from one client without a token, each
 * declaring a small body and sending a byte every few seconds, held all of Tomcat's 200 threads,
 * and the node answered nobody — not its health check, not OCSP, not sign-in — for as long as they
 * kept trickling (the connection timeout is per read, not per request).
 *
 * <p>So a body of up to {@code yinxin.http.read-ahead-max} (1 MB) with a declared length — every
 * body but seal uploads — is read here first, without a thread: the servlet's non-blocking read,
 * driven by the container as bytes arrive. Only once the whole body is in does the request go on,
 * in a request thread, with the body served from memory (parameters of a form included). A body not
 * complete within {@code yinxin.http.read-ahead-timeout} (30 s) is answered 408 and its connection
 * closed. The bytes held this way at once are bounded by {@code yinxin.http.read-ahead-budget} (64
 * MB): a body that would go beyond it is answered 503.
 *
 * <p>Larger bodies (a PDF to seal) and bodies without a declared length are read by their endpoint
 * as they arrive, as before, but at most {@code yinxin.http.streamed-bodies} (32) at once; one more
 * is answered 503 with {@code Retry-After} before a byte of it is read. The endpoints that take
 * them check the caller's token before reading. {@code BodyReadAheadTest} holds both to account
 * with a slow client and a real node.
 */
@Configuration(proxyBeanMethods = false)
class BodyReadAhead {

  @Bean
  FilterRegistrationBean<OncePerRequestFilter> bodyReadAheadFilter(
      @Value("${yinxin.http.read-ahead-max:1MB}") DataSize max,
      @Value("${yinxin.http.read-ahead-timeout:30s}") Duration timeout,
      @Value("${yinxin.http.read-ahead-budget:64MB}") DataSize budget,
      @Value("${yinxin.http.streamed-bodies:32}") int streamed) {
    FilterRegistrationBean<OncePerRequestFilter> r =
        new FilterRegistrationBean<>(
            new Filter(max.toBytes(), timeout, budget.toBytes(), streamed));
    r.addUrlPatterns("/*");
    r.setAsyncSupported(true);
    // First, before the request metrics' filter (HIGHEST_PRECEDENCE + 1): the request is seen
    // once, on its dispatch with the body in, not also on the pass that only starts the read.
    r.setOrder(Ordered.HIGHEST_PRECEDENCE);
    r.setName("yinxinBodyReadAhead");
    return r;
  }

  /** Set on a request whose body was read ahead, for its dispatch. */
  static final String READ = BodyReadAhead.class.getName() + ".READ";

  static final class Filter extends OncePerRequestFilter {
    private final long max;
    private final long timeoutMillis;
    private final long budget;
    private final AtomicLong held = new AtomicLong();
    private final Semaphore streamed;
    private final ScheduledExecutorService deadlines =
        io.yinxin.hsm.Schedulers.daemon("http-read-ahead-deadlines");

    Filter(long max, Duration timeout, long budget, int streamed) {
      this.max = max;
      this.timeoutMillis = timeout.toMillis();
      this.budget = budget;
      this.streamed = new Semaphore(streamed);
    }

    @Override
    protected void doFilterInternal(
        HttpServletRequest request, HttpServletResponse response, FilterChain chain)
        throws ServletException, IOException {
      if (request.getAttribute(READ) != null) {
        chain.doFilter(request, response); // the dispatch of a body read ahead: it goes on
        return;
      }
      long declared = request.getContentLengthLong();
      boolean chunked = declared < 0 && request.getHeader("Transfer-Encoding") != null;
      if (declared <= 0 && !chunked) {
        chain.doFilter(request, response); // no body
        return;
      }
      if (declared > 0 && declared <= max && !multipart(request) && request.isAsyncSupported()) {
        readAhead(request, response, (int) declared);
        return;
      }
      if (!streamed.tryAcquire()) {
        refuse(response, 503, "too many large request bodies in progress; try again");
        return;
      }
      try {
        chain.doFilter(request, response);
      } finally {
        streamed.release();
      }
    }

    /** The deadline thread goes with the filter (a context closed, a test's node stopped). */
    @Override
    public void destroy() {
      deadlines.shutdownNow();
    }

    private static boolean multipart(HttpServletRequest request) {
      String type = request.getContentType();
      return type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/");
    }

    private void readAhead(HttpServletRequest request, HttpServletResponse response, int length)
        throws IOException {
      Buffered buffered = new Buffered(request);
      // Started with the wrapper, so the dispatch below hands it, body and all, to the filters
      // and the endpoint.
      AsyncContext async = request.startAsync(buffered, response);
      async.setTimeout(0); // the deadline below covers the read; processing takes what it takes
      Reading r = new Reading(request, response, buffered, async, length);
      r.deadline =
          deadlines.schedule(
              () -> r.fail(408, "the request body did not arrive in time"),
              timeoutMillis,
              TimeUnit.MILLISECONDS);
      async.addListener(
          new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent event) {
              r.release();
            }

            @Override
            public void onTimeout(AsyncEvent event) {}

            @Override
            public void onError(AsyncEvent event) {
              r.fail(0, null);
            }

            @Override
            public void onStartAsync(AsyncEvent event) {}
          });
      request.getInputStream().setReadListener(r);
    }

    /**
     * One body being read: driven by the container, ended by the first of done, error, deadline.
     */
    private final class Reading implements ReadListener {
      private final HttpServletResponse response;
      private final Buffered buffered;
      private final AsyncContext async;
      private final ServletInputStream in;
      private final int length;
      private final byte[] chunk = new byte[8192];
      private byte[] body = new byte[0];
      private int filled;
      private volatile ScheduledFuture<?> deadline;

      /** Reading until set: then the body goes on, or the request was answered. */
      private final AtomicInteger done = new AtomicInteger();

      /** Bytes of this body counted in {@link #held}; -1 once released. */
      private final AtomicLong counted = new AtomicLong();

      Reading(
          HttpServletRequest request,
          HttpServletResponse response,
          Buffered buffered,
          AsyncContext async,
          int length)
          throws IOException {
        this.response = response;
        this.buffered = buffered;
        this.async = async;
        this.in = request.getInputStream();
        this.length = length;
      }

      @Override
      public void onDataAvailable() throws IOException {
        while (done.get() == 0 && filled < length && in.isReady()) {
          int n = in.read(chunk, 0, Math.min(chunk.length, length - filled));
          if (n < 0) {
            return;
          }
          if (!count(n)) {
            return;
          }
          if (held.addAndGet(n) > budget) {
            fail(503, "too many request bodies being received; try again");
            return;
          }
          if (body.length < filled + n) {
            // Grows with what arrives, never to more than the declared length: a declared length
            // alone reserves nothing.
            body =
                java.util.Arrays.copyOf(
                    body, (int) Math.min(length, Math.max(filled + n, 2L * body.length)));
          }
          System.arraycopy(chunk, 0, body, filled, n);
          filled += n;
        }
      }

      /** Counts {@code n} more bytes of this body, unless it was released meanwhile. */
      private boolean count(long n) {
        long c;
        do {
          c = counted.get();
          if (c < 0) {
            return false;
          }
        } while (!counted.compareAndSet(c, c + n));
        return true;
      }

      void release() {
        long c = counted.getAndSet(-1);
        if (c > 0) {
          held.addAndGet(-c);
        }
      }

      @Override
      public void onAllDataRead() {
        if (!done.compareAndSet(0, 1)) {
          return;
        }
        cancelDeadline();
        if (filled != length) {
          finish(async, response, 400, "the body is shorter than its Content-Length");
          return;
        }
        // A fresh pass through the filters and on to the endpoint, in a request thread, as if the
        // body had just arrived (errors go to the error page as for any request).
        buffered.body(body);
        buffered.setAttribute(READ, Boolean.TRUE);
        async.dispatch();
      }

      @Override
      public void onError(Throwable t) {
        fail(0, null);
      }

      /** Ends the read with this answer (status 0: none, the client is gone), if still reading. */
      void fail(int status, String detail) {
        if (!done.compareAndSet(0, 1)) {
          return;
        }
        cancelDeadline();
        release();
        if (status == 0) {
          try {
            async.complete();
          } catch (IllegalStateException e) {
            // completed already
          }
        } else {
          finish(async, response, status, detail);
        }
      }

      private void cancelDeadline() {
        ScheduledFuture<?> d = deadline;
        if (d != null) {
          d.cancel(false);
        }
      }
    }

    /** Answers with a problem and closes the connection (the rest of the body is never read). */
    private static void finish(
        AsyncContext async, HttpServletResponse response, int status, String detail) {
      try {
        if (!response.isCommitted()) {
          response.reset();
          refuse(response, status, detail);
        }
      } catch (IOException | IllegalStateException e) {
        // the client is gone
      } finally {
        try {
          async.complete();
        } catch (IllegalStateException e) {
          // completed already
        }
      }
    }

    private static void refuse(HttpServletResponse response, int status, String detail)
        throws IOException {
      if (status == 503) {
        response.setHeader("Retry-After", "1");
      }
      RequestBodyGuard.Guard.refuse(response, status, detail);
    }
  }

  /**
   * The request with its body read: the stream, the reader and the parameters (the query string's,
   * then a form body's, as the container gives them) come from memory.
   */
  static final class Buffered extends HttpServletRequestWrapper {
    private byte[] body = new byte[0];
    private Map<String, String[]> parameters;

    Buffered(HttpServletRequest request) {
      super(request);
    }

    /** The body, once read. */
    void body(byte[] body) {
      this.body = body;
    }

    /**
     * {@code REQUEST}: the container dispatches this request again once its body is in ({@code
     * ASYNC} to it), and each filter must treat it as the request it is (Spring's once-per-request
     * filters skip an asynchronous dispatch, authentication among them).
     */
    @Override
    public jakarta.servlet.DispatcherType getDispatcherType() {
      return jakarta.servlet.DispatcherType.REQUEST;
    }

    @Override
    public ServletInputStream getInputStream() {
      ByteArrayInputStream in = new ByteArrayInputStream(body);
      return new ServletInputStream() {
        @Override
        public int read() {
          return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
          return in.read(b, off, len);
        }

        @Override
        public boolean isFinished() {
          return in.available() == 0;
        }

        @Override
        public boolean isReady() {
          return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
          throw new IllegalStateException("the body has been read already");
        }
      };
    }

    @Override
    public BufferedReader getReader() {
      return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), charset()));
    }

    private Charset charset() {
      String name = getCharacterEncoding();
      try {
        return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
      } catch (IllegalArgumentException e) {
        return StandardCharsets.UTF_8;
      }
    }

    @Override
    public String getParameter(String name) {
      String[] values = parameters().get(name);
      return values == null ? null : values[0];
    }

    @Override
    public Map<String, String[]> getParameterMap() {
      return parameters();
    }

    @Override
    public Enumeration<String> getParameterNames() {
      return Collections.enumeration(parameters().keySet());
    }

    @Override
    public String[] getParameterValues(String name) {
      String[] values = parameters().get(name);
      return values == null ? null : values.clone();
    }

    private Map<String, String[]> parameters() {
      if (parameters == null) {
        Map<String, List<String>> all = new LinkedHashMap<>();
        // The query string in UTF-8, as Tomcat decodes the URI here.
        decodeForm(getQueryString(), StandardCharsets.UTF_8, all);
        String type = getContentType();
        if ("POST".equals(getMethod())
            && type != null
            && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
          decodeForm(new String(body, StandardCharsets.ISO_8859_1), charset(), all);
        }
        Map<String, String[]> out = new LinkedHashMap<>();
        all.forEach((k, v) -> out.put(k, v.toArray(String[]::new)));
        parameters = Collections.unmodifiableMap(out);
      }
      return parameters;
    }

    /**
     * Adds the pairs of an {@code application/x-www-form-urlencoded} text (its bytes as ISO-8859-1
     * characters, so percent-decoding yields the original bytes in {@code charset}); a pair that
     * does not decode is skipped, as the container skips it.
     */
    static void decodeForm(String text, Charset charset, Map<String, List<String>> into) {
      if (text == null || text.isEmpty()) {
        return;
      }
      for (String pair : text.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String k = eq < 0 ? pair : pair.substring(0, eq);
        String v = eq < 0 ? "" : pair.substring(eq + 1);
        try {
          String key = decode(k, charset);
          String value = decode(v, charset);
          into.computeIfAbsent(key, x -> new ArrayList<>()).add(value);
        } catch (IllegalArgumentException e) {
          // skipped
        }
      }
    }

    private static String decode(String s, Charset charset) {
      // Percent-escapes decode to bytes; other characters stand for their own byte (ISO-8859-1).
      byte[] raw = s.getBytes(StandardCharsets.ISO_8859_1);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(raw.length);
      for (int i = 0; i < raw.length; i++) {
        byte b = raw[i];
        if (b == '+') {
          out.write(' ');
        } else if (b == '%') {
          if (i + 2 >= raw.length) {
            throw new IllegalArgumentException("truncated escape");
          }
          int hi = Character.digit(raw[i + 1], 16);
          int lo = Character.digit(raw[i + 2], 16);
          if (hi < 0 || lo < 0) {
            throw new IllegalArgumentException("bad escape");
          }
          out.write(hi * 16 + lo);
          i += 2;
        } else {
          out.write(b);
        }
      }
      return new String(out.toByteArray(), charset);
    }
  }
}
