package io.marketintel.safety.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The JUnit report chainsaw writes ({@code --report-format JUNIT-TEST}): one case per suite. */
public record ChainsawReport(List<Case> cases) {

    /** One chainsaw test: its name, and the failure chainsaw reported (null when it passed). */
    public record Case(String name, double seconds, String failure) {
        public boolean passed() {
            return failure == null;
        }
    }

    public static ChainsawReport read(Path xml) {
        if (!Files.exists(xml)) {
            throw new IllegalStateException("chainsaw wrote no report at " + xml);
        }
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            NodeList testcases = factory.newDocumentBuilder().parse(xml.toFile()).getElementsByTagName("testcase");
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < testcases.getLength(); i++) {
                Element c = (Element) testcases.item(i);
                String failure = null;
                for (String tag : new String[] { "failure", "error" }) {
                    NodeList f = c.getElementsByTagName(tag);
                    if (f.getLength() > 0) {
                        Element e = (Element) f.item(0);
                        failure = (e.getAttribute("message") + "\n" + e.getTextContent()).strip();
                    }
                }
                String time = c.getAttribute("time");
                cases.add(new Case(c.getAttribute("name"), time.isEmpty() ? 0 : Double.parseDouble(time), failure));
            }
            return new ChainsawReport(cases);
        } catch (Exception e) {
            throw new IllegalStateException("unreadable chainsaw report " + xml + ": " + e.getMessage(), e);
        }
    }

    public List<String> failed() {
        return cases.stream().filter(c -> !c.passed()).map(Case::name).toList();
    }
}
