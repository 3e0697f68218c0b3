<%@ page session="false" contentType="application/octet-stream" trimDirectiveWhitespaces="true" %>
<%@ include file="/WEB-INF/lab.jspf" %>
<%--
  ?size=N bytes (default 1 MiB, at most 1 GiB) of a deterministic body: byte i is PATTERN[i % 64], so a client can
  verify any response without storing a copy. Content-Length is set unless ?chunked=1 (then Transfer-Encoding:
  chunked over HTTP/1.1, and no length in the AJP Send Headers).
--%>
<%!
  static final String PATTERN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-\n";
  static final char[] BLOCK = new char[65536];
  static {
    for (int i = 0; i < BLOCK.length; i++) BLOCK[i] = PATTERN.charAt(i % PATTERN.length());
  }
%>
<%
  String query = request.getQueryString();
  long size = longParam(query, "size", 1048576L, 0L, 1L << 30);
  if ("1".equals(queryParam(query, "chunked"))) {
    // Commit the headers now: a body that fits Tomcat's buffer would otherwise still get a Content-Length.
    response.flushBuffer();
  } else {
    response.setContentLengthLong(size);
  }
  long remaining = size;
  while (remaining > 0) {
    int n = (int) Math.min(remaining, BLOCK.length);
    out.write(BLOCK, 0, n);
    remaining -= n;
  }
%>
