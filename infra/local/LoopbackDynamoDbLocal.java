// DynamoDB Local listening on 127.0.0.1 only. The jar's own main class binds its Jetty server to
// every interface and has no option or system property for the address, so this starts the same
// server through the jar's embedding API (ServerRunner.createServerFromCommandLineArgs, with the
// usual command-line options) and sets the host of its Jetty connector before it starts.
// infra/local/dynamodb-local.ts compiles it once with javac into .cache/.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is a private field; if a DynamoDB Local version renames it, this fails
    // here, loudly, rather than listening on every interface.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Connector[] connectors = ((Server) field.get(proxy)).getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Connector connector : connectors) ((ServerConnector) connector).setHost("127.0.0.1");
    proxy.start();
  }
}
