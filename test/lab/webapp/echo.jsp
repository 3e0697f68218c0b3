<%@ page session="false" contentType="application/json; charset=UTF-8" trimDirectiveWhitespaces="true" %>
<%@ include file="/WEB-INF/lab.jspf" %>
<%--
  Echoes what Tomcat saw, so a test can compare it with what the client sent through a front end: request line,
  headers in arrival order (repeats kept), connection facts, AJP request attributes, and the body's length and
  SHA-256. session="false": this page must never create a session, or it would disturb stickiness tests.
--%>
<%
  java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
  long bodyLength = 0;
  java.io.InputStream in = request.getInputStream();
  byte[] buf = new byte[65536];
  for (int n; (n = in.read(buf)) > 0; ) {
    sha.update(buf, 0, n);
    bodyLength += n;
  }
  StringBuilder hex = new StringBuilder();
  for (byte b : sha.digest()) hex.append(String.format("%02x", b & 0xff));

  StringBuilder headers = new StringBuilder("[");
  for (java.util.Enumeration<String> names = request.getHeaderNames(); names.hasMoreElements(); ) {
    String name = names.nextElement();
    for (java.util.Enumeration<String> values = request.getHeaders(name); values.hasMoreElements(); ) {
      if (headers.length() > 1) headers.append(',');
      headers.append('[').append(json(name)).append(',').append(json(values.nextElement())).append(']');
    }
  }
  headers.append(']');

  StringBuilder attributes = new StringBuilder("{");
  for (java.util.Enumeration<String> names = request.getAttributeNames(); names.hasMoreElements(); ) {
    String name = names.nextElement();
    if (attributes.length() > 1) attributes.append(',');
    attributes.append(json(name)).append(':').append(json(request.getAttribute(name)));
  }
  // Attributes Tomcat keeps on the coyote request are not enumerated by getAttributeNames(); ask for the ones the
  // AJP connector may pass through by name.
  for (String name : new String[] {"JK_LB_ACTIVATION", "AJP_SSL_PROTOCOL", "jakarta.servlet.request.ssl_session_id"}) {
    Object value = request.getAttribute(name);
    if (value == null) continue;
    if (attributes.length() > 1) attributes.append(',');
    attributes.append(json(name)).append(':').append(json(value));
  }
  attributes.append('}');
%>{
"route": <%= json(ROUTE) %>,
"method": <%= json(request.getMethod()) %>,
"uri": <%= json(request.getRequestURI()) %>,
"queryString": <%= json(request.getQueryString()) %>,
"protocol": <%= json(request.getProtocol()) %>,
"scheme": <%= json(request.getScheme()) %>,
"secure": <%= request.isSecure() %>,
"serverName": <%= json(request.getServerName()) %>,
"serverPort": <%= request.getServerPort() %>,
"remoteAddr": <%= json(request.getRemoteAddr()) %>,
"remoteHost": <%= json(request.getRemoteHost()) %>,
"remotePort": <%= request.getRemotePort() %>,
"localAddr": <%= json(request.getLocalAddr()) %>,
"localPort": <%= request.getLocalPort() %>,
"contextPath": <%= json(request.getContextPath()) %>,
"servletPath": <%= json(request.getServletPath()) %>,
"remoteUser": <%= json(request.getRemoteUser()) %>,
"authType": <%= json(request.getAuthType()) %>,
"requestedSessionId": <%= json(request.getRequestedSessionId()) %>,
"contentType": <%= json(request.getContentType()) %>,
"contentLength": <%= request.getContentLengthLong() %>,
"cipherSuite": <%= json(request.getAttribute("jakarta.servlet.request.cipher_suite")) %>,
"keySize": <%= json(request.getAttribute("jakarta.servlet.request.key_size")) %>,
"bodyLength": <%= bodyLength %>,
"bodySha256": <%= json(hex) %>,
"headers": <%= headers %>,
"attributes": <%= attributes %>
}
