// The server's javac step, run inside the plugin sandbox by src/generate/java/javac.ts (as a single-file source
// program): reads classpath jars and Java sources from stdin, compiles them in memory, writes the class files to
// stdout. Nothing touches the disk but the classpath jars, written to the sandbox's private /tmp.
//
// Frames (big-endian): an int count, then per item an int name length, the UTF-8 name, an int content length and
// the bytes. Input: the jars, then the sources (paths like demo/money/v1/Money.java). Output: the class files
// (paths like demo/money/v1/Money.class), sorted by path. Compiler messages go to stderr; exit 1 on errors.
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

public final class CompileJava {
  private static final int MAX_NAME_BYTES = 4096;

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: CompileJava <base classpath> [javac options...]");
      System.exit(2);
    }
    DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
    Path jarDir = Files.createTempDirectory("classpath");
    StringBuilder classpath = new StringBuilder(args[0]);
    int jars = in.readInt();
    for (int i = 0; i < jars; i++) {
      readName(in);
      Path jar = jarDir.resolve(i + ".jar");
      Files.write(jar, readBytes(in));
      if (classpath.length() > 0) classpath.append(':');
      classpath.append(jar);
    }
    List<JavaFileObject> sources = new ArrayList<>();
    int count = in.readInt();
    for (int i = 0; i < count; i++) {
      String name = readName(in);
      byte[] content = readBytes(in);
      sources.add(new Source(name, new String(content, StandardCharsets.UTF_8)));
    }

    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    StandardJavaFileManager standard = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8);
    Map<String, ByteArrayOutputStream> classes = new TreeMap<>();
    JavaFileManager files = new ForwardingJavaFileManager<JavaFileManager>(standard) {
      @Override
      public JavaFileObject getJavaFileForOutput(
          Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
        String path = className.replace('.', '/') + kind.extension;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        classes.put(path, bytes);
        return new SimpleJavaFileObject(URI.create("mem:///" + path), kind) {
          @Override
          public OutputStream openOutputStream() {
            return bytes;
          }
        };
      }
    };
    List<String> options = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
    options.add("-classpath");
    options.add(classpath.toString());
    PrintWriter messages = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
    boolean ok = compiler.getTask(messages, files, null, options, null, sources).call();
    messages.flush();
    if (!ok) System.exit(1);

    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out));
    out.writeInt(classes.size());
    for (Map.Entry<String, ByteArrayOutputStream> e : classes.entrySet()) {
      byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
      byte[] content = e.getValue().toByteArray();
      out.writeInt(name.length);
      out.write(name);
      out.writeInt(content.length);
      out.write(content);
    }
    out.flush();
  }

  private static String readName(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > MAX_NAME_BYTES) throw new IOException("bad name length " + length);
    byte[] name = new byte[length];
    in.readFully(name);
    return new String(name, StandardCharsets.UTF_8);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) throw new IOException("bad content length " + length);
    byte[] content = new byte[length];
    in.readFully(content);
    return content;
  }

  /** A source file held in memory; its URI path is what javac checks public class names against. */
  private static final class Source extends SimpleJavaFileObject {
    private final String text;

    Source(String path, String text) {
      super(URI.create("string:///" + path), JavaFileObject.Kind.SOURCE);
      this.text = text;
    }

    @Override
    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
      return text;
    }
  }
}
