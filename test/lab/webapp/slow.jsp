<%@ page session="false" contentType="application/json; charset=UTF-8" trimDirectiveWhitespaces="true" %>
<%@ include file="/WEB-INF/lab.jspf" %>
<%-- ?ms=N (default 1000, at most 600000): sleeps, then answers; for timeout and pool-exhaustion tests. --%>
<%
  long ms = longParam(request.getQueryString(), "ms", 1000L, 0L, 600000L);
  long started = System.nanoTime();
  Thread.sleep(ms);
  long slept = (System.nanoTime() - started) / 1000000L;
%>{"route": <%= json(ROUTE) %>, "requestedMs": <%= ms %>, "sleptMs": <%= slept %>}
